#include "phone-setup.h"

#include "error.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace fer::serve {

namespace {

bool is_private(const in_addr & a) {
    const uint32_t ip = ntohl(a.s_addr);
    return (ip >> 24) == 10 || (ip >> 20) == (172u << 4 | 1) || (ip >> 16) == (192u << 8 | 168);
}

template <typename T, void (*Free)(T *)> struct deleter {
    void operator()(T * p) const { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0 || !name[0]) {
        return "";
    }
    std::string s(name);
    // Only a name a certificate can carry (letters, digits, '-', '.').
    const bool ok = std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'; });
    return ok ? s : "";
}

x509_ptr read_cert(const std::string & path) {
    FILE * f = std::fopen(path.c_str(), "r");
    if (!f) {
        return nullptr;
    }
    x509_ptr cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    return cert;
}

pkey_ptr read_key(const std::string & path) {
    FILE * f = std::fopen(path.c_str(), "r");
    if (!f) {
        return nullptr;
    }
    pkey_ptr key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    return key;
}

std::string fingerprint(X509 * cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    X509_digest(cert, EVP_sha256(), md, &n);
    std::string s;
    char hex[4];
    for (unsigned int i = 0; i < n; ++i) {
        std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", md[i]);
        s += hex;
    }
    return s;
}

// Writes through a temporary file and a rename: a crash leaves the old file or none.
void write_pem(const std::string & path, mode_t mode, const std::string & dir, bool (*write)(FILE *, void *), void * what) {
    const std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
    FILE * f = fd >= 0 ? fdopen(fd, "w") : nullptr;
    const bool ok = f && write(f, what);
    const bool closed = f && std::fclose(f) == 0;
    if (fd >= 0 && !f) {
        ::close(fd);
    }
    if (!ok || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        throw input_error("serve --phone: cannot write " + path + " (--cert-dir " + dir + ")");
    }
}

bool add_ext(X509 * cert, int nid, const std::string & value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION * ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) {
        return false;
    }
    const bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

void make_certificate(const std::string & dir, const std::string & cert_path, const std::string & key_path,
                      const std::vector<std::string> & addresses) {
    const auto fail = [&dir](const char * step) {
        ERR_clear_error();
        return input_error(std::string("serve --phone: could not make a certificate (") + step + ") for --cert-dir " + dir);
    };
    pkey_ptr key(EVP_EC_gen("P-256"));
    x509_ptr cert(X509_new());
    if (!key || !cert) {
        throw fail("key");
    }
    const std::string host = host_name();
    std::string names = "DNS:localhost,IP:127.0.0.1";
    if (!host.empty()) {
        names += ",DNS:" + host;
        if (host.find('.') == std::string::npos) {
            names += ",DNS:" + host + ".local";
        }
    }
    for (const std::string & a : addresses) {
        names += ",IP:" + a;
    }
    unsigned char serial[16];
    FILE * r = std::fopen("/dev/urandom", "rb");
    const bool random_ok = r && std::fread(serial, 1, sizeof serial, r) == sizeof serial;
    if (r) {
        std::fclose(r);
    }
    serial[0] &= 0x7f;  // a positive serial number
    BIGNUM * bn = random_ok ? BN_bin2bn(serial, sizeof serial, nullptr) : nullptr;
    const bool serial_ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_NAME * name = X509_get_subject_name(cert.get());
    const std::string cn = "fer serve" + (host.empty() ? std::string() : " on " + host);
    const bool ok = serial_ok && X509_set_version(cert.get(), 2) == 1 &&
                    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) &&
                    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 825L * 24 * 3600) &&
                    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                               reinterpret_cast<const unsigned char *>(cn.c_str()), -1, -1, 0) == 1 &&
                    X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key.get()) == 1 &&
                    add_ext(cert.get(), NID_subject_alt_name, names) &&
                    add_ext(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
                    add_ext(cert.get(), NID_ext_key_usage, "serverAuth") &&
                    X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
    if (!ok) {
        throw fail("certificate");
    }
    write_pem(key_path, 0600, dir, [](FILE * f, void * k) {
        return PEM_write_PrivateKey(f, static_cast<EVP_PKEY *>(k), nullptr, nullptr, 0, nullptr, nullptr) == 1;
    }, key.get());
    write_pem(cert_path, 0644, dir, [](FILE * f, void * c) { return PEM_write_X509(f, static_cast<X509 *>(c)) == 1; },
              cert.get());
}

}  // namespace

std::vector<std::string> lan_addresses() {
    std::vector<std::pair<bool, std::string>> found;
    ifaddrs * list = nullptr;
    if (getifaddrs(&list) != 0) {
        return {};
    }
    for (ifaddrs * i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) {
            continue;
        }
        const in_addr a = reinterpret_cast<const sockaddr_in *>(i->ifa_addr)->sin_addr;
        char text[INET_ADDRSTRLEN];
        if (inet_ntop(AF_INET, &a, text, sizeof text)) {
            found.emplace_back(!is_private(a), text);
        }
    }
    freeifaddrs(list);
    std::stable_sort(found.begin(), found.end(), [](const auto & a, const auto & b) { return a.first < b.first; });
    std::vector<std::string> out;
    for (const auto & f : found) {
        if (std::find(out.begin(), out.end(), f.second) == out.end()) {
            out.push_back(f.second);
        }
    }
    return out;
}

std::string default_cert_dir() {
    if (const char * x = std::getenv("XDG_CONFIG_HOME"); x && *x) {
        return std::string(x) + "/fer/tls";
    }
    if (const char * h = std::getenv("HOME"); h && *h) {
        return std::string(h) + "/.config/fer/tls";
    }
    return "";
}

phone_certificate ensure_phone_certificate(const std::string & dir, const std::vector<std::string> & addresses) {
    if (dir.empty()) {
        throw input_error("serve --phone: no place for the certificate: set HOME or give --cert-dir");
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir, ec)) {
        throw input_error("serve --phone: cannot make the directory --cert-dir " + dir);
    }
    phone_certificate out;
    out.cert_path = dir + "/cert.pem";
    out.key_path = dir + "/key.pem";
    x509_ptr cert = read_cert(out.cert_path);
    pkey_ptr key = read_key(out.key_path);
    const bool usable = cert && key && X509_check_private_key(cert.get(), key.get()) == 1 &&
                        X509_cmp_current_time(X509_get0_notAfter(cert.get())) > 0;
    ERR_clear_error();
    if (!usable) {
        make_certificate(dir, out.cert_path, out.key_path, addresses);
        cert = read_cert(out.cert_path);
        if (!cert) {
            throw input_error("serve --phone: cannot read back " + out.cert_path);
        }
        out.created = true;
    }
    out.sha256 = fingerprint(cert.get());
    return out;
}

}  // namespace fer::serve
