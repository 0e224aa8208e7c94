// The whole runtime cross-built for AArch64 and run under qemu-aarch64
// (tests/CMakeLists.txt, test Arm.ModelNeonMatchesReference): a real int8
// model loaded twice, once with the kernels select_kernels picks (NEON for
// the int8 convolutions) and once with reference_kernels, must give the same
// bytes in every tensor of the graph for each face. Faces come from the
// FER2013 sample CSV when one is given and readable, else from a synthetic
// face (the comparison does not need a real one, only realistic activations).
//
// Usage: fer-neon-face MODEL.tflite [FER2013.csv [N_FACES]]
#include "fer.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int k_side = 48;

// Up to n faces of FER2013's CSV (emotion,pixels,Usage): 2304 grey levels each.
std::vector<std::vector<unsigned char>> read_csv_faces(const char * path, int n) {
    std::vector<std::vector<unsigned char>> faces;
    FILE * f = std::fopen(path, "rb");
    if (!f) {
        return faces;
    }
    std::string line;
    int c;
    bool header = true;
    while (static_cast<int>(faces.size()) < n && (c = std::fgetc(f)) != EOF) {
        if (c != '\n') {
            line.push_back(static_cast<char>(c));
            continue;
        }
        if (!header) {
            const size_t comma = line.find(',');
            std::vector<unsigned char> face;
            const char * s = comma == std::string::npos ? "" : line.c_str() + comma + 1;
            char * end = nullptr;
            while (face.size() < k_side * k_side) {
                const long v = std::strtol(s, &end, 10);
                if (end == s || v < 0 || v > 255) {
                    break;
                }
                face.push_back(static_cast<unsigned char>(v));
                s = end;
            }
            if (face.size() == k_side * k_side) {
                faces.push_back(face);
            }
        }
        header = false;
        line.clear();
    }
    std::fclose(f);
    return faces;
}

// A bright oval with darker eyes and mouth on a gradient: smooth, face-like
// statistics for the activations, deterministic.
std::vector<unsigned char> synthetic_face() {
    std::vector<unsigned char> f(k_side * k_side);
    for (int y = 0; y < k_side; ++y) {
        for (int x = 0; x < k_side; ++x) {
            const float dx = (x - 23.5f) / 17.0f, dy = (y - 24.0f) / 22.0f;
            int v = 40 + x;
            if (dx * dx + dy * dy < 1.0f) {
                v = 170 + (x * 7 + y * 3) % 23;
            }
            const bool eye = (y >= 16 && y <= 20) && ((x >= 14 && x <= 20) || (x >= 27 && x <= 33));
            const bool mouth = (y >= 33 && y <= 36) && (x >= 17 && x <= 30);
            if (eye || mouth) {
                v = 50;
            }
            f[static_cast<size_t>(y * k_side + x)] = static_cast<unsigned char>(v);
        }
    }
    return f;
}

fer_model * load(const char * path, int reference) {
    fer_model_params p = fer_model_default_params();
    p.keep_all_tensors = 1;  // compare every intermediate tensor, not only the probabilities
    p.reference_kernels = reference;
    return fer_model_load_from_file(path, p);
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL.tflite [FER2013.csv [N_FACES]]\n", argv[0]);
        return 2;
    }
    const int n_wanted = argc > 3 ? std::atoi(argv[3]) : 4;
    std::vector<std::vector<unsigned char>> faces;
    if (argc > 2) {
        faces = read_csv_faces(argv[2], n_wanted);
    }
    const char * source = "FER2013 sample CSV";
    if (faces.empty()) {
        faces.push_back(synthetic_face());
        source = "synthetic (no CSV given or readable)";
    }

    fer_model * fast = load(argv[1], 0);
    fer_model * ref = load(argv[1], 1);
    if (!fast || !ref) {
        std::printf("FAIL cannot load %s\n", argv[1]);
        return 1;
    }
    std::printf("selected kernels: %s\nreference run:    %s\n", fer_model_kernels(fast), fer_model_kernels(ref));
    int failed = 0;
    if (!std::strstr(fer_model_kernels(fast), "neon")) {
        std::printf("FAIL select_kernels did not pick the NEON int8 convolution\n");
        ++failed;
    }
    fer_context * cf = fer_context_new(fast);
    fer_context * cr = fer_context_new(ref);
    if (!cf || !cr) {
        std::printf("FAIL cannot create contexts\n");
        return 1;
    }
    const int n_tensors = fer_model_n_tensors(fast);
    for (size_t i = 0; i < faces.size(); ++i) {
        fer_result rf, rr;
        if (fer_classify(cf, faces[i].data(), k_side, &rf) != FER_OK ||
            fer_classify(cr, faces[i].data(), k_side, &rr) != FER_OK) {
            std::printf("FAIL face %zu: fer_classify failed\n", i);
            ++failed;
            continue;
        }
        int differing = 0;
        for (int t = 0; t < n_tensors; ++t) {
            size_t nf = 0, nr = 0;
            int type_f = 0, type_r = 0;
            const char * name = nullptr;
            const void * a = fer_context_tensor(cf, t, &nf, &type_f, &name);
            const void * b = fer_context_tensor(cr, t, &nr, &type_r, nullptr);
            if (!a || !b) {
                continue;
            }
            const size_t elem = type_f == 9 ? 1 : 4;  // TFLite INT8 is 9; FLOAT32 and INT32 are 4 bytes
            if (nf != nr || type_f != type_r || std::memcmp(a, b, nf * elem) != 0) {
                std::printf("FAIL face %zu: tensor %d (%s) differs between NEON and reference kernels\n", i, t,
                            name ? name : "?");
                ++differing;
            }
        }
        if (std::memcmp(rf.probabilities, rr.probabilities, sizeof rf.probabilities) != 0) {
            std::printf("FAIL face %zu: probabilities differ\n", i);
            ++differing;
        }
        std::printf("face %zu: top class %s (%.4f), %s\n", i, fer_class_name(rf.top_class), rf.confidence,
                    differing ? "differs" : "identical in every tensor");
        failed += differing ? 1 : 0;
    }
    std::printf("[ neon model ] %zu face(s) (%s), %d tensors each, %d failed\n", faces.size(), source, n_tensors,
                failed);
    fer_context_free(cf);
    fer_context_free(cr);
    fer_model_free(fast);
    fer_model_free(ref);
    return failed ? 1 : 0;
}
