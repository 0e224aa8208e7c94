// The selection split (train/holdout.h): deterministic, independent of load
// order and folders, disjoint from the training part, stratified per class.

#include "dataset.h"
#include "error.h"
#include "holdout.h"
#include "test-util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

// `per_class[c]` faces of class c named like FER2013's image files, under `folder`,
// in an interleaved order; pixels encode the index so faces differ.
fer::dataset make_faces(const std::vector<int> & per_class, const std::string & folder) {
    fer::dataset d;
    int index = 0;
    for (int k = 0;; ++k) {
        bool any = false;
        for (int c = 0; c < static_cast<int>(per_class.size()); ++c) {
            if (k >= per_class[static_cast<size_t>(c)]) continue;
            any = true;
            std::vector<uint8_t> px(fer::k_image_pixels, static_cast<uint8_t>(index % 251));
            d.append(px.data(), c, folder + "/" + std::to_string(c) + "/Training_" + std::to_string(1000 + 7 * index) + ".jpg");
            ++index;
        }
        if (!any) break;
    }
    return d;
}

std::set<std::string> names_at(const fer::dataset & d, const std::vector<size_t> & idx) {
    std::set<std::string> s;
    for (size_t i : idx) s.insert(fer::face_name(d.sources[i]));
    return s;
}

const std::vector<int> k_sizes = {400, 44, 410, 722, 484, 317, 497};  // FER2013 Training / 10, roughly

TEST(Holdout, FaceNames) {
    EXPECT_EQ(fer::face_name("data/fer2013/Training/angry/Training_10118481.jpg"), "Training_10118481.jpg");
    EXPECT_EQ(fer::face_name("C:\\x\\Training_1.png"), "Training_1.png");
    EXPECT_EQ(fer::face_name("/tmp/a/fer2013.csv:123"), "123");
    EXPECT_EQ(fer::face_name("fer2013.csv:7"), "7");
    EXPECT_EQ(fer::face_name("odd:name.jpg"), "odd:name.jpg");  // not a line number
}

TEST(Holdout, DisjointCompleteAndStratified) {
    const fer::dataset d = make_faces(k_sizes, "/data/a");
    const fer::holdout_indices h = fer::holdout_split(d);
    EXPECT_TRUE(std::is_sorted(h.train.begin(), h.train.end()));
    EXPECT_TRUE(std::is_sorted(h.holdout.begin(), h.holdout.end()));
    std::vector<size_t> all = h.train;
    all.insert(all.end(), h.holdout.begin(), h.holdout.end());
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all.size(), d.size());
    for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i) << "every face exactly once";
    std::vector<int> held(7, 0);
    for (size_t i : h.holdout) held[static_cast<size_t>(d.labels[i])]++;
    for (size_t c = 0; c < 7; ++c) {
        EXPECT_EQ(held[c], static_cast<int>(std::lround(0.1 * k_sizes[c]))) << "class " << c;
    }
    // Another fraction, same rule.
    const fer::holdout_indices q = fer::holdout_split(d, 0.25, 5);
    std::fill(held.begin(), held.end(), 0);
    for (size_t i : q.holdout) held[static_cast<size_t>(d.labels[i])]++;
    for (size_t c = 0; c < 7; ++c) EXPECT_EQ(held[c], static_cast<int>(std::lround(0.25 * k_sizes[c])));
}

TEST(Holdout, SmallClassesKeepOneOnEachSide) {
    const fer::dataset d = make_faces({1, 2, 3, 4, 30}, "f");
    const fer::holdout_indices h = fer::holdout_split(d, 0.1, 1);
    std::vector<int> held(7, 0);
    for (size_t i : h.holdout) held[static_cast<size_t>(d.labels[i])]++;
    EXPECT_EQ(held[0], 0);  // a single face cannot be both trained on and held out
    EXPECT_EQ(held[1], 1);
    EXPECT_EQ(held[2], 1);
    EXPECT_EQ(held[3], 1);
    EXPECT_EQ(held[4], 3);
}

TEST(Holdout, DeterministicAndIndependentOfOrderAndFolders) {
    const fer::dataset d = make_faces(k_sizes, "/data/a");
    const fer::holdout_indices h1 = fer::holdout_split(d), h2 = fer::holdout_split(d);
    EXPECT_EQ(h1.holdout, h2.holdout);
    EXPECT_EQ(h1.train, h2.train);
    // The same faces loaded in another order from another folder: the same faces held out.
    std::vector<size_t> perm(d.size());
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    std::mt19937 rng(9);
    std::shuffle(perm.begin(), perm.end(), rng);
    fer::dataset e;
    for (size_t i : perm) {
        e.append(d.image(i), d.labels[i], "/elsewhere/deeper/" + fer::face_name(d.sources[i]));
    }
    const fer::holdout_indices he = fer::holdout_split(e);
    EXPECT_EQ(names_at(e, he.holdout), names_at(d, h1.holdout));
    // The pixels play no part (JPEG decoders differ between machines).
    fer::dataset f = d;
    for (auto & p : f.pixels) p = static_cast<uint8_t>(255 - p);
    EXPECT_EQ(fer::holdout_split(f).holdout, h1.holdout);
}

TEST(Holdout, SeedChoosesAnotherSet) {
    const fer::dataset d = make_faces(k_sizes, "x");
    const fer::holdout_indices a = fer::holdout_split(d, 0.1, 2013), b = fer::holdout_split(d, 0.1, 2014);
    EXPECT_EQ(a.holdout.size(), b.holdout.size());
    EXPECT_NE(a.holdout, b.holdout);
}

TEST(Holdout, DefinitionIsPinned) {
    // Changing the hash or the rule would silently move faces between the holdout
    // and the training part of runs in progress and of teacher files: this pins
    // the definition (10 faces named Training_<n>.jpg, n = 1000, 1007, ...).
    const fer::dataset d = make_faces({10}, "any");
    const fer::holdout_indices h = fer::holdout_split(d, 0.3, 2013);
    ASSERT_EQ(h.holdout.size(), 3u);
    std::string got;
    for (size_t i : h.holdout) got += fer::face_name(d.sources[i]) + " ";
    // Computed independently (a Python transcription of the definition).
    EXPECT_EQ(got, "Training_1007.jpg Training_1042.jpg Training_1063.jpg ");
}

TEST(Holdout, BadFractionIsUsageError) {
    const fer::dataset d = make_faces({10, 10}, "x");
    for (double f : {0.0, 1.0, -0.1, 1.5, std::nan("")}) {
        fer_test::expect_error([&] { fer::holdout_split(d, f, 1); }, fer::error_kind::usage, "holdout");
    }
}

TEST(Holdout, SubsetCarriesFacesLabelsAndSoftTargets) {
    fer::dataset d = make_faces({3, 3}, "x");
    d.soft.resize(d.size() * fer::k_soft_width);
    for (size_t i = 0; i < d.soft.size(); ++i) d.soft[i] = static_cast<float>(i);
    const fer::dataset s = fer::subset(d, {4, 1});
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s.sources[0], d.sources[4]);
    EXPECT_EQ(s.labels[1], d.labels[1]);
    EXPECT_TRUE(std::equal(s.image(0), s.image(0) + fer::k_image_pixels, d.image(4)));
    ASSERT_EQ(s.soft.size(), 2u * fer::k_soft_width);
    EXPECT_EQ(s.soft[0], static_cast<float>(4 * fer::k_soft_width));
    EXPECT_EQ(s.soft[fer::k_soft_width], static_cast<float>(fer::k_soft_width));
    fer_test::expect_error([&] { fer::subset(d, {6}); }, fer::error_kind::runtime, "out of range");
}

TEST(Holdout, FingerprintSeesNamesLabelsAndOrderNotFolders) {
    const fer::dataset d = make_faces({5, 5, 5}, "/a");
    const uint64_t f = fer::dataset_fingerprint(d);
    EXPECT_EQ(fer::dataset_fingerprint(make_faces({5, 5, 5}, "/b/c")), f);
    fer::dataset relabelled = d;
    relabelled.labels[3] = (relabelled.labels[3] + 1) % 7;
    EXPECT_NE(fer::dataset_fingerprint(relabelled), f);
    EXPECT_NE(fer::dataset_fingerprint(fer::subset(d, {1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})), f);
    EXPECT_NE(fer::dataset_fingerprint(fer::subset(d, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})), f);
}

}  // namespace
