// TLS for fer's HTTP server: OpenSSL on non-blocking sockets, so that a TLS
// handshake or record that arrives slowly costs the event loop nothing.
#pragma once

#include <string>
#include <sys/types.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace fer::serve {

class tls_context {
public:
    // Throws fer::input_error naming the files when they cannot be used.
    tls_context(const std::string & cert_chain_pem, const std::string & key_pem);
    ~tls_context();
    tls_context(const tls_context &) = delete;
    tls_context & operator=(const tls_context &) = delete;
    SSL * new_session(int fd) const;  // nullptr on failure

private:
    SSL_CTX * ctx_ = nullptr;
};

// Results of the non-blocking operations below: > 0 bytes, or one of these.
enum : ssize_t { io_want_read = -1, io_want_write = -2, io_closed = -3 };

// The handshake: 1 done, or io_want_read / io_want_write / io_closed.
ssize_t tls_handshake(SSL * ssl);
ssize_t tls_read(SSL * ssl, char * buf, size_t n);
ssize_t tls_write(SSL * ssl, const char * buf, size_t n);
// Sends close_notify, best effort; then frees.
void tls_free(SSL * ssl);

}  // namespace fer::serve
