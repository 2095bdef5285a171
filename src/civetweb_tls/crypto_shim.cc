// libcrypto.so for civetweb (built as SONAME "libcrypto.so", with only a dependency on OpenSSL 3's
// libcrypto.so.3). civetweb 1.15 dlopen()s "libcrypto.so", a name only the -dev package installs;
// the web server loads this file by path first so that name resolves to the runtime library
// without libssl-dev on the machine. See ssl_shim.cc.

extern "C" __attribute__((visibility("default"))) int gomodprobeCivetwebCryptoShim() { return 1; }
