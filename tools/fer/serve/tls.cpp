#include "tls.h"

#include "error.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <climits>

namespace fer::serve {

tls_context::tls_context(const std::string & cert, const std::string & key) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (!ctx_ || SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx_) != 1) {
        ERR_clear_error();
        if (ctx_) {
            SSL_CTX_free(ctx_);
        }
        ctx_ = nullptr;
        throw input_error("serve: cannot use --tls-cert " + cert + " with --tls-key " + key +
                          " (unreadable, not PEM, or the key does not match)");
    }
    // Partial writes: the event loop resumes a write where the socket stopped it.
    SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION);
}

tls_context::~tls_context() {
    if (ctx_) {
        SSL_CTX_free(ctx_);
    }
}

SSL * tls_context::new_session(int fd) const {
    SSL * ssl = SSL_new(ctx_);
    if (ssl && SSL_set_fd(ssl, fd) == 1) {
        SSL_set_accept_state(ssl);
        return ssl;
    }
    if (ssl) {
        SSL_free(ssl);
    }
    return nullptr;
}

namespace {
ssize_t outcome(SSL * ssl, int ret) {
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ: return io_want_read;
    case SSL_ERROR_WANT_WRITE: return io_want_write;
    default:
        ERR_clear_error();  // the error queue is per thread: leave it clean for the next connection
        return io_closed;
    }
}
}  // namespace

ssize_t tls_handshake(SSL * ssl) {
    const int r = SSL_do_handshake(ssl);
    return r == 1 ? 1 : outcome(ssl, r);
}

ssize_t tls_read(SSL * ssl, char * buf, size_t n) {
    const int r = SSL_read(ssl, buf, static_cast<int>(n > INT_MAX ? INT_MAX : n));
    return r > 0 ? r : outcome(ssl, r);
}

ssize_t tls_write(SSL * ssl, const char * buf, size_t n) {
    const int r = SSL_write(ssl, buf, static_cast<int>(n > INT_MAX ? INT_MAX : n));
    return r > 0 ? r : outcome(ssl, r);
}

void tls_free(SSL * ssl) {
    if (ssl) {
        SSL_shutdown(ssl);  // non-blocking: one try
        ERR_clear_error();
        SSL_free(ssl);
    }
}

}  // namespace fer::serve
