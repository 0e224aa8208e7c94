// Text forms of one picture's faces, shared by the runtime commands (fer
// predict, fer video/live, fer serve) so that they all print the same fields:
//
//   {"file": "a.jpg", "width": 640, "height": 480, "faces": [
//     {"box": [x, y, w, h], "emotion": "happy", "confidence": 0.91, "uncertain": false,
//      "probabilities": {"angry": 0.01, ..., "neutral": 0.02},
//      "score": 0.93, "landmarks": [[x, y] x 5],   // detectors with landmarks (YuNet): right eye,
//                                              // left eye, nose tip, right and left mouth corner
//      "track_id": 3,                          // only for tracked faces (track_id >= 0)
//      "smoothed": {...}, "smoothed_emotion": "happy",   // idem
//      "crop": [x, y, size]}]}                 // with face_json_options::crop
//
// "emotion" is "uncertain" when the face's confidence is below the caller's
// --min-confidence (fer_face.uncertain); "probabilities" still give every class.
// CSV: one row per face (an image without a face gives one row with empty face
// fields, so that every input appears), columns from face_csv_header(); the
// detector's score and the landmarks (right_eye_x, ..., mouth_left_y) come last,
// empty for the Haar cascade.
#pragma once

#include "fer-pipeline.h"

#include <string>
#include <vector>

namespace fer {

struct face_json_options {
    bool crop = false;  // add each face's classified square
    int frame = -1;     // >= 0: add "frame": N (video)
    double time_s = -1; // >= 0: add "time": seconds (video)
};

// One picture as a JSON object (no newline). faces: the faces classified.
std::string faces_to_json(const std::string & file, int width, int height, const std::vector<fer_face> & faces,
                          const face_json_options & options = face_json_options());

// The CSV header line and the rows of one picture (each ends with "\n").
std::string face_csv_header();
std::string faces_to_csv(const std::string & file, int width, int height, const std::vector<fer_face> & faces);

// A face's label for people: the class name, or "uncertain".
const char * face_label(const fer_face & face);

}  // namespace fer
