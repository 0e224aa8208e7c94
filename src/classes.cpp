#include "fer.h"

#include <cctype>
#include <cstring>

namespace {

const char * const k_names[FER_N_CLASSES] = {
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
};

struct alias {
    const char * name;
    int cls;
};

// Folder names seen in public FER2013/CK+/RAF-DB style trees.
const alias k_aliases[] = {
    {"anger", FER_ANGRY},       {"disgusted", FER_DISGUST}, {"fearful", FER_FEAR},
    {"happiness", FER_HAPPY},   {"sadness", FER_SAD},       {"surprised", FER_SURPRISE},
};

bool equal_nocase(const char * a, const char * b) {
    for (; *a && *b; ++a, ++b) {
        if (std::tolower(static_cast<unsigned char>(*a)) != std::tolower(static_cast<unsigned char>(*b))) {
            return false;
        }
    }
    return *a == *b;
}

}  // namespace

const char * fer_class_name(int cls) {
    return (cls >= 0 && cls < FER_N_CLASSES) ? k_names[cls] : nullptr;
}

int fer_class_from_name(const char * name) {
    if (!name) {
        return -1;
    }
    for (int i = 0; i < FER_N_CLASSES; ++i) {
        if (equal_nocase(name, k_names[i])) {
            return i;
        }
    }
    for (const alias & a : k_aliases) {
        if (equal_nocase(name, a.name)) {
            return a.cls;
        }
    }
    return -1;
}
