#include "jpeg-check.h"

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE

#include <jpeglib.h>

namespace fer::serve {

namespace {

struct error_manager {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
};

// libjpeg reports fatal errors through error_exit, which must not return.
[[noreturn]] void on_error(j_common_ptr c) { std::longjmp(reinterpret_cast<error_manager *>(c->err)->jump, 1); }

// Warnings (level -1) are counted, nothing is printed.
void on_message(j_common_ptr c, int level) {
    if (level < 0) {
        ++c->err->num_warnings;
    }
}

// 0: complete; 1: warnings (cut short or corrupt); 2: fatal error. Only
// trivially destructible locals here: longjmp skips destructors.
int check(const uint8_t * data, size_t size) {
    jpeg_decompress_struct cinfo;
    error_manager err;
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    err.pub.emit_message = on_message;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return 2;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
    jpeg_read_header(&cinfo, TRUE);
    jpeg_read_coefficients(&cinfo);  // entropy-decodes every scan
    const long warnings = err.pub.num_warnings;
    jpeg_destroy_decompress(&cinfo);
    return warnings > 0 ? 1 : 0;
}

}  // namespace

bool jpeg_scans_complete(const uint8_t * data, size_t size, std::string * why) {
    switch (check(data, size)) {
    case 0: return true;
    case 1: *why = "truncated or corrupt JPEG (its image data ends early or is damaged)"; return false;
    default: *why = "corrupt JPEG (libjpeg cannot read it)"; return false;
    }
}

}  // namespace fer::serve
