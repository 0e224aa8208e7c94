// fer runtime: the dependency-free part of fer (no libtorch, no OpenCV).
// It grows into the inference engine (model reader, kernels, face detector);
// today it holds the facts every part of the system shares: the seven
// FER2013 classes, their names, and the input preprocessing.
#ifndef FER_H
#define FER_H

#ifdef __cplusplus
extern "C" {
#endif

// FER2013 label order (the `emotion` column of fer2013.csv).
enum fer_class {
    FER_ANGRY = 0,
    FER_DISGUST = 1,
    FER_FEAR = 2,
    FER_HAPPY = 3,
    FER_SAD = 4,
    FER_SURPRISE = 5,
    FER_NEUTRAL = 6,
};

#define FER_N_CLASSES 7
#define FER_INPUT_SIZE 48  // faces are 48x48 single-channel images

// Preprocessing every model expects: x = (pixel - FER_PIXEL_MEAN) / FER_PIXEL_STD,
// pixel in 0..255 grey levels.
#define FER_PIXEL_MEAN 127.5f
#define FER_PIXEL_STD 63.75f

// Canonical name of a class ("angry" ... "neutral"); NULL when out of range.
const char * fer_class_name(int cls);

// Class of a name, accepting the canonical names and common dataset aliases
// (anger, disgusted, fearful, happiness, sadness, surprised, ...), case-insensitive.
// Returns -1 for an unknown name.
int fer_class_from_name(const char * name);

#ifdef __cplusplus
}
#endif

#endif  // FER_H
