#include "face-json.h"

#include "cli-common.h"

#include <cstdio>
#include <cstring>

namespace fer {

namespace {

// The 5 landmarks in YuNet's order (fer_box.landmarks); the subject's right and left.
const char * const k_landmark_names[5] = {"right_eye", "left_eye", "nose", "mouth_right", "mouth_left"};

// Probabilities with 6 decimals: finer than any model difference we report,
// and stable text for tests and diffs.
std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.6f", v);
    return b;
}

std::string probabilities_json(const float * p) {
    std::string s = "{";
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        s += (c ? ", \"" : "\"") + std::string(fer_class_name(c)) + "\": " + num(p[c]);
    }
    return s + "}";
}

std::string csv_field(const std::string & raw) {
    // A cell beginning with = + - @ (or tab, CR) is a formula to spreadsheet
    // programs (CSV injection): a leading ' makes it text. File names are the
    // only free text fer writes to CSV; numbers are written elsewhere.
    const std::string s = !raw.empty() && raw[0] != '\0' && std::strchr("=+-@\t\r", raw[0]) ? "'" + raw : raw;
    if (s.find_first_of(",\"\n\r") == std::string::npos) {
        return s;
    }
    std::string q = "\"";
    for (char c : s) {
        q += c == '"' ? std::string("\"\"") : std::string(1, c);
    }
    return q + "\"";
}

}  // namespace

const char * face_label(const fer_face & f) {
    return f.uncertain ? "uncertain" : fer_class_name(f.result.top_class);
}

std::string faces_to_json(const std::string & file, int width, int height, const std::vector<fer_face> & faces,
                          const face_json_options & o) {
    std::string s = "{\"file\": \"" + json_escape(file) + "\"";
    if (o.frame >= 0) {
        s += ", \"frame\": " + std::to_string(o.frame);
    }
    if (o.time_s >= 0) {
        s += ", \"time\": " + num(o.time_s);
    }
    s += ", \"width\": " + std::to_string(width) + ", \"height\": " + std::to_string(height) + ", \"faces\": [";
    for (size_t i = 0; i < faces.size(); ++i) {
        const fer_face & f = faces[i];
        s += i ? ", " : "";
        s += "{\"box\": [" + std::to_string(f.box.x) + ", " + std::to_string(f.box.y) + ", " +
             std::to_string(f.box.width) + ", " + std::to_string(f.box.height) + "]";
        s += ", \"emotion\": \"" + std::string(face_label(f)) + "\"";
        s += ", \"confidence\": " + num(f.result.confidence);
        s += std::string(", \"uncertain\": ") + (f.uncertain ? "true" : "false");
        s += ", \"probabilities\": " + probabilities_json(f.result.probabilities);
        if (f.box.n_landmarks == 5) {
            s += ", \"score\": " + num(f.box.score) + ", \"landmarks\": [";
            for (int k = 0; k < 5; ++k) {
                s += std::string(k ? ", [" : "[") + num(f.box.landmarks[2 * k]) + ", " + num(f.box.landmarks[2 * k + 1]) +
                     "]";
            }
            s += "]";
        }
        if (f.track_id >= 0) {
            s += ", \"track_id\": " + std::to_string(f.track_id);
            s += ", \"smoothed\": " + probabilities_json(f.smoothed);
            s += ", \"smoothed_emotion\": \"" + std::string(fer_class_name(f.smoothed_class)) + "\"";
        }
        if (o.crop) {
            s += ", \"crop\": [" + std::to_string(f.crop_x) + ", " + std::to_string(f.crop_y) + ", " +
                 std::to_string(f.crop_size) + "]";
        }
        s += "}";
    }
    return s + "]}";
}

std::string face_csv_header() {
    std::string s = "file,width,height,face,x,y,w,h,emotion,confidence,uncertain";
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        s += std::string(",") + fer_class_name(c);
    }
    // the detector's score and landmarks (empty for the Haar cascade, which has none)
    s += ",score";
    for (const char * k : k_landmark_names) {
        s += std::string(",") + k + "_x," + k + "_y";
    }
    return s + "\n";
}

std::string faces_to_csv(const std::string & file, int width, int height, const std::vector<fer_face> & faces) {
    const std::string head = csv_field(file) + "," + std::to_string(width) + "," + std::to_string(height) + ",";
    if (faces.empty()) {
        return head + std::string(7 + FER_N_CLASSES + 11, ',') + "\n";
    }
    std::string s;
    for (size_t i = 0; i < faces.size(); ++i) {
        const fer_face & f = faces[i];
        s += head + std::to_string(i) + "," + std::to_string(f.box.x) + "," + std::to_string(f.box.y) + "," +
             std::to_string(f.box.width) + "," + std::to_string(f.box.height) + "," + face_label(f) + "," +
             num(f.result.confidence) + "," + (f.uncertain ? "1" : "0");
        for (int c = 0; c < FER_N_CLASSES; ++c) {
            s += "," + num(f.result.probabilities[c]);
        }
        if (f.box.n_landmarks == 5) {
            s += "," + num(f.box.score);
            for (int k = 0; k < 10; ++k) {
                s += "," + num(f.box.landmarks[k]);
            }
        } else {
            s += std::string(11, ',');
        }
        s += "\n";
    }
    return s;
}

}  // namespace fer
