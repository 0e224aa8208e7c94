// fer-cascade: convert an OpenCV Haar cascade (XML) into fer's compact binary
// form, which the web app fetches (see docs/face-detection.md).
//
//   fer-cascade IN.xml OUT.fercascade   # convert (IN may also be a binary: re-validated copy)
//   fer-cascade IN                      # print window, stages, size
//
// Exit codes: 0 ok, 1 usage, 2 bad input, 3 write failure.
#include "fer-detect.h"

#include <cstdio>
#include <cstring>
#include <vector>

int main(int argc, char ** argv) {
    if (argc < 2 || argc > 3 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        std::fprintf(argc < 2 || argc > 3 ? stderr : stdout,
                     "usage: fer-cascade IN.xml [OUT.fercascade]\n"
                     "Reads an OpenCV Haar cascade (new-style XML, or fer's binary form), checks it,\n"
                     "and writes the compact binary form to OUT; without OUT prints a summary.\n");
        return argc < 2 || argc > 3 ? 1 : 0;
    }
    char err[512];
    fer_detect_status st;
    fer_detector * det = fer_detector_load_from_file(argv[1], &st, err, sizeof err);
    if (!det) {
        std::fprintf(stderr, "error: %s\n", err);
        return 2;
    }
    size_t size = 0;
    fer_detector_save_binary(det, nullptr, &size);
    std::vector<unsigned char> bin(size);
    fer_detector_save_binary(det, bin.data(), &size);
    std::printf("%s: window %dx%d, %d stages, binary %zu bytes\n", argv[1], fer_detector_window_width(det),
                fer_detector_window_height(det), fer_detector_n_stages(det), size);
    fer_detector_free(det);
    if (argc == 3) {
        std::FILE * f = std::fopen(argv[2], "wb");
        if (!f || std::fwrite(bin.data(), 1, bin.size(), f) != bin.size() || std::fclose(f) != 0) {
            std::fprintf(stderr, "error: cannot write %s\n", argv[2]);
            return 3;
        }
        std::printf("wrote %s\n", argv[2]);
    }
    return 0;
}
