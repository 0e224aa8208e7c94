#include "augment.h"

#include "dataset.h"
#include "fer.h"

#include <algorithm>
#include <cmath>

namespace fer {

void normalise_face(const uint8_t * in, float * out) {
    const float inv_std = 1.0f / FER_PIXEL_STD;
    for (int i = 0; i < k_image_pixels; ++i) {
        out[i] = (static_cast<float>(in[i]) - FER_PIXEL_MEAN) * inv_std;
    }
}

void flip_face(const float * in, float * out) {
    for (int y = 0; y < k_image_side; ++y) {
        for (int x = 0; x < k_image_side; ++x) {
            out[y * k_image_side + x] = in[y * k_image_side + (k_image_side - 1 - x)];
        }
    }
}

namespace {

float uniform(std::mt19937_64 & rng, float lo, float hi) {
    return std::uniform_real_distribution<float>(lo, hi)(rng);
}

}  // namespace

bool augment_face(const uint8_t * in, float * out, std::mt19937_64 & rng, const augment_options & opt) {
    const int n = k_image_side;
    const float c = 0.5f * static_cast<float>(n - 1);
    // Draw every parameter first so the number of draws never depends on data.
    const bool flip = opt.flip && uniform(rng, 0.0f, 1.0f) < 0.5f;
    const float tx = uniform(rng, -opt.shift_px, opt.shift_px);
    const float ty = uniform(rng, -opt.shift_px, opt.shift_px);
    const float angle = uniform(rng, -opt.rotate_deg, opt.rotate_deg) * 3.14159265f / 180.0f;
    const float zoom = uniform(rng, 1.0f - opt.scale, 1.0f + opt.scale);
    const float gain = uniform(rng, 1.0f - opt.contrast, 1.0f + opt.contrast);
    const float bias = uniform(rng, -opt.brightness, opt.brightness) * 255.0f;
    const bool erase = uniform(rng, 0.0f, 1.0f) < opt.erase_prob;
    const float ew = uniform(rng, 8.0f, 20.0f), eh = uniform(rng, 8.0f, 20.0f);
    const float ex = uniform(rng, 0.0f, n - ew), ey = uniform(rng, 0.0f, n - eh);

    // Inverse map: output pixel -> source position (rotate and zoom about the centre).
    const float cs = std::cos(angle) / zoom, sn = std::sin(angle) / zoom;
    const float inv_std = 1.0f / FER_PIXEL_STD;
    for (int y = 0; y < n; ++y) {
        for (int x = 0; x < n; ++x) {
            const float dx = (flip ? (n - 1 - x) : x) - c - tx;
            const float dy = y - c - ty;
            float sx = cs * dx + sn * dy + c;
            float sy = -sn * dx + cs * dy + c;
            // Replicate the border, as a crop from a padded image would.
            sx = std::min(std::max(sx, 0.0f), static_cast<float>(n - 1));
            sy = std::min(std::max(sy, 0.0f), static_cast<float>(n - 1));
            const int x0 = std::min(static_cast<int>(sx), n - 2), y0 = std::min(static_cast<int>(sy), n - 2);
            const float fx = sx - x0, fy = sy - y0;
            const uint8_t * p = in + y0 * n + x0;
            const float top = p[0] + fx * (p[1] - p[0]);
            const float bot = p[n] + fx * (p[n + 1] - p[n]);
            float v = top + fy * (bot - top);
            v = (v - 127.5f) * gain + 127.5f + bias;
            v = std::min(std::max(v, 0.0f), 255.0f);
            if (erase && x >= ex && x < ex + ew && y >= ey && y < ey + eh) {
                v = FER_PIXEL_MEAN;
            }
            out[y * n + x] = (v - FER_PIXEL_MEAN) * inv_std;
        }
    }
    return flip;
}

}  // namespace fer
