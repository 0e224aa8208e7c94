// `fer serve --phone`: what it takes to open the web app on a phone on the
// same network. Phones give the camera only to secure pages, so the laptop
// serves HTTPS with a self-signed certificate made once and kept; the page's
// address is printed, and as a QR code for the phone's camera.
#pragma once

#include <string>
#include <vector>

namespace fer::serve {

// This machine's IPv4 addresses a phone on the same network can reach: up,
// not loopback; private ranges (10/8, 172.16/12, 192.168/16) first.
std::vector<std::string> lan_addresses();

// Where the generated certificate is kept: $XDG_CONFIG_HOME/fer/tls, else
// $HOME/.config/fer/tls (empty when neither is set).
std::string default_cert_dir();

struct phone_certificate {
    std::string cert_path, key_path;
    std::string sha256;  // fingerprint, "AB:CD:...", as browsers show it
    bool created = false;  // false: an earlier one was reused
};

// cert.pem and key.pem in dir: reused when both load, match and have not
// expired; otherwise made (ECDSA P-256, valid 825 days, names: localhost,
// this host's name and name.local, 127.0.0.1 and `addresses`) and written
// atomically, the key readable by its owner only. Throws fer::input_error
// naming the directory when it cannot be made or written.
phone_certificate ensure_phone_certificate(const std::string & dir, const std::vector<std::string> & addresses);

}  // namespace fer::serve
