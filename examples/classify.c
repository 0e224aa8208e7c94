/* The smallest C program using fer: load a model, classify a 48x48 grey face
 * (a PGM file, or a synthetic gradient when none is given), print the classes.
 *
 *   classify-c MODEL.tflite [FACE.pgm]
 */
#include <fer.h>

#include <stdio.h>
#include <string.h>

/* A binary PGM (P5) of exactly 48x48 pixels, 8 bits. */
static int read_pgm48(const char * path, unsigned char * face) {
    FILE * f = fopen(path, "rb");
    int w = 0, h = 0, max = 0, ok;
    if (!f) {
        return 0;
    }
    ok = fscanf(f, "P5 %d %d %d", &w, &h, &max) == 3 && w == 48 && h == 48 && max == 255 && fgetc(f) != EOF &&
         fread(face, 1, 48 * 48, f) == 48 * 48;
    fclose(f);
    return ok;
}

int main(int argc, char ** argv) {
    unsigned char face[48 * 48];
    struct fer_result r;
    fer_model * model;
    fer_context * ctx;
    int i, status;
    if (argc < 2) {
        fprintf(stderr, "usage: classify-c MODEL.tflite [FACE.pgm]\n");
        return 1;
    }
    if (argc > 2) {
        if (!read_pgm48(argv[2], face)) {
            fprintf(stderr, "classify-c: %s is not a 48x48 8-bit binary PGM\n", argv[2]);
            return 2;
        }
    } else {
        for (i = 0; i < 48 * 48; ++i) {
            face[i] = (unsigned char)(64 + (i % 48) * 2 + (i / 48));
        }
    }
    printf("fer %s (built against %s)\n", fer_version(), FER_VERSION);
    model = fer_model_load(argv[1], fer_model_default_params());
    if (!model) {
        return 2; /* the reason went to stderr (the default log) */
    }
    ctx = fer_context_new(model);
    status = ctx ? fer_classify(ctx, face, 48, &r) : FER_ERR_MEMORY;
    if (status != FER_OK) {
        fprintf(stderr, "classify-c: %s\n", fer_status_string(status));
        fer_context_free(ctx);
        fer_model_free(model);
        return 3;
    }
    for (i = 0; i < FER_N_CLASSES; ++i) {
        printf("%-9s %.4f%s\n", fer_model_class_label(model, i), r.probabilities[i], i == r.top_class ? "  <-" : "");
    }
    fer_context_free(ctx);
    fer_model_free(model);
    return strcmp(fer_version(), FER_VERSION) == 0 ? 0 : 4;
}
