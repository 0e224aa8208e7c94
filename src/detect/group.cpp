#include "group.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace fer::detect {

namespace {

bool similar(const rect & a, const rect & b, double eps) {
    const double delta = eps * (std::min(a.w, b.w) + std::min(a.h, b.h)) * 0.5;
    return std::abs(a.x - b.x) <= delta && std::abs(a.y - b.y) <= delta &&
           std::abs(a.x + a.w - b.x - b.w) <= delta && std::abs(a.y + a.h - b.y - b.h) <= delta;
}

int find_root(std::vector<int> & parent, int i) {
    int root = i;
    while (parent[size_t(root)] != root) {
        root = parent[size_t(root)];
    }
    while (parent[size_t(i)] != root) {  // path compression
        const int next = parent[size_t(i)];
        parent[size_t(i)] = root;
        i = next;
    }
    return root;
}

int round_f(float v) { return int(std::lrintf(v)); }   // saturate_cast<int>(float)
int round_d(double v) { return int(std::lrint(v)); }  // saturate_cast<int>(double)

}  // namespace

void group_rectangles(std::vector<rect> & rects, std::vector<int> & weights, int group_threshold, double eps) {
    const int n = int(rects.size());
    if (group_threshold <= 0 || n == 0) {
        weights.assign(size_t(n), 1);
        return;
    }
    // Equivalence classes (cv::partition), numbered by their first member.
    std::vector<int> parent(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        parent[size_t(i)] = i;
    }
    for (int i = 0; i < n; ++i) {
        for (int j = i + 1; j < n; ++j) {
            if (similar(rects[size_t(i)], rects[size_t(j)], eps)) {
                const int a = find_root(parent, i), b = find_root(parent, j);
                if (a != b) {
                    parent[size_t(std::max(a, b))] = std::min(a, b);
                }
            }
        }
    }
    std::vector<int> label(static_cast<size_t>(n), -1), cls_of_root(static_cast<size_t>(n), -1);
    int n_classes = 0;
    for (int i = 0; i < n; ++i) {
        const int r = find_root(parent, i);
        if (cls_of_root[size_t(r)] < 0) {
            cls_of_root[size_t(r)] = n_classes++;
        }
        label[size_t(i)] = cls_of_root[size_t(r)];
    }
    std::vector<rect> acc(static_cast<size_t>(n_classes));
    std::vector<int> count(static_cast<size_t>(n_classes), 0);
    for (int i = 0; i < n; ++i) {
        rect & a = acc[size_t(label[size_t(i)])];
        const rect & r = rects[size_t(i)];
        a.x += r.x;
        a.y += r.y;
        a.w += r.w;
        a.h += r.h;
        ++count[size_t(label[size_t(i)])];
    }
    for (int c = 0; c < n_classes; ++c) {
        rect & a = acc[size_t(c)];
        const float s = 1.f / float(count[size_t(c)]);
        a = rect{round_f(float(a.x) * s), round_f(float(a.y) * s), round_f(float(a.w) * s), round_f(float(a.h) * s)};
    }
    rects.clear();
    weights.clear();
    for (int i = 0; i < n_classes; ++i) {
        const rect r1 = acc[size_t(i)];
        const int n1 = count[size_t(i)];
        if (n1 <= group_threshold) {
            continue;
        }
        int j = 0;
        for (; j < n_classes; ++j) {
            const int n2 = count[size_t(j)];
            if (j == i || n2 <= group_threshold) {
                continue;
            }
            const rect r2 = acc[size_t(j)];
            const int dx = round_d(r2.w * eps), dy = round_d(r2.h * eps);
            if (r1.x >= r2.x - dx && r1.y >= r2.y - dy && r1.x + r1.w <= r2.x + r2.w + dx &&
                r1.y + r1.h <= r2.y + r2.h + dy && (n2 > std::max(3, n1) || n1 < 3)) {
                break;
            }
        }
        if (j == n_classes) {
            rects.push_back(r1);
            weights.push_back(n1);
        }
    }
}

}  // namespace fer::detect
