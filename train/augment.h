// Turning 48x48 grey faces into network input: normalisation and the random
// augmentation used in training (flip, shift = crop with padding, rotation,
// scale, brightness/contrast, erasing), all drawn from a caller-owned RNG so a
// batch is reproducible from its seed alone.
#pragma once

#include <cstdint>
#include <random>

namespace fer {

struct augment_options {
    bool flip = true;
    float shift_px = 4.0f;      // uniform in [-shift, shift] on each axis
    float rotate_deg = 10.0f;   // uniform in [-rotate, rotate]
    float scale = 0.10f;        // zoom factor uniform in [1-scale, 1+scale]
    float brightness = 0.15f;   // additive, fraction of full range
    float contrast = 0.20f;     // multiplicative around mid-grey, 1 +- contrast
    float erase_prob = 0.25f;   // probability of blanking one random rectangle
};

// pixel -> (pixel - FER_PIXEL_MEAN) / FER_PIXEL_STD for 48x48 values.
void normalise_face(const uint8_t * in, float * out);

// Horizontal mirror of a normalised face.
void flip_face(const float * in, float * out);

// One random augmented, normalised view of a face; true when it was mirrored
// (distillation then uses the teacher's output on the mirrored face).
bool augment_face(const uint8_t * in, float * out, std::mt19937_64 & rng, const augment_options & opt);

}  // namespace fer
