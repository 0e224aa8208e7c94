// The smallest C++ program using fer (fer-cpp.h): a face detector and a
// classifier on a grey image (a PGM file, or a blank one), each face's box and
// emotion printed. No exceptions, RAII handles.
//
//   analyze-cpp MODEL.tflite DETECTOR.tflite [IMAGE.pgm]
#include <fer-cpp.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

// A binary PGM (P5), 8 bits; false when the file is not one.
bool read_pgm(const char * path, std::vector<uint8_t> * px, int32_t * w, int32_t * h) {
    std::ifstream f(path, std::ios::binary);
    std::string magic;
    int max = 0;
    if (!(f >> magic >> *w >> *h >> max) || magic != "P5" || *w < 1 || *h < 1 || max != 255 || *w > 16384 ||
        *h > 16384) {
        return false;
    }
    f.get();
    px->resize(static_cast<size_t>(*w) * static_cast<size_t>(*h));
    return static_cast<bool>(f.read(reinterpret_cast<char *>(px->data()), static_cast<std::streamsize>(px->size())));
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: analyze-cpp MODEL.tflite DETECTOR.tflite [IMAGE.pgm]\n");
        return 1;
    }
    fer::model model = fer::model::load(argv[1]);
    fer::detector det = fer::detector::load(argv[2]);
    if (!model || !det) {
        return 2;  // the reasons went to stderr
    }
    fer::context ctx(model);
    int32_t w = 320, h = 240;
    std::vector<uint8_t> grey(static_cast<size_t>(w * h), 128);
    if (argc > 3 && !read_pgm(argv[3], &grey, &w, &h)) {
        std::fprintf(stderr, "analyze-cpp: %s is not an 8-bit binary PGM\n", argv[3]);
        return 2;
    }
    std::vector<fer_face> faces(16);
    int32_t n = 0;
    const int st = det.analyze(ctx, grey.data(), w, h, w, FER_PIXEL_GREY, fer_pipeline_default_params(), faces.data(),
                               static_cast<int32_t>(faces.size()), &n);
    if (st != FER_OK) {
        std::fprintf(stderr, "analyze-cpp: %s\n", fer_status_string(st));
        return 3;
    }
    std::printf("fer %s, %s detector, %s: %d face(s)\n", fer_version(), det.kind_name(), model.kernels(), n);
    for (int32_t i = 0; i < n && i < static_cast<int32_t>(faces.size()); ++i) {
        const fer_face & f = faces[static_cast<size_t>(i)];
        std::printf("face %d at %d,%d %dx%d: %s %.2f\n", i, f.box.x, f.box.y, f.box.width, f.box.height,
                    model.label(f.result.top_class), static_cast<double>(f.result.confidence));
    }
    return 0;
}
