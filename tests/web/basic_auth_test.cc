#include "web/basic_auth.h"

#include <crypt.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <string>

namespace gomodprobe::web {
namespace {

// A fresh bcrypt hash of `password` with a random salt (libxcrypt picks the random bytes).
std::string bcryptHash(const std::string& password, const char* prefix = "$2b$") {
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  if (crypt_gensalt_rn(prefix, 5, nullptr, 0, setting.data(), static_cast<int>(setting.size())) ==
      nullptr) {
    return {};
  }
  return BasicAuth::crypt(password, setting.data());
}

// "Basic base64(user:password)", encoded with OpenSSL.
std::string header(const std::string& user_colon_password) {
  std::string out((user_colon_password.size() + 2) / 3 * 4 + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(user_colon_password.data()),
                                static_cast<int>(user_colon_password.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

TEST(BasicAuthTest, ParsesRfc7617Credentials) {
  // RFC 7617 section 2's example.
  auto credentials = parseBasicAuthorization("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->first, "Aladdin");
  EXPECT_EQ(credentials->second, "open sesame");
  // The scheme is case-insensitive; a password may contain ':'.
  credentials = parseBasicAuthorization("basic YTpiOmM=");  // "a:b:c"
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->first, "a");
  EXPECT_EQ(credentials->second, "b:c");
}

TEST(BasicAuthTest, RejectsMalformedHeaders) {
  EXPECT_FALSE(parseBasicAuthorization(""));
  EXPECT_FALSE(parseBasicAuthorization("Bearer YWxpY2U6czNjcmV0"));
  EXPECT_FALSE(parseBasicAuthorization("Basic "));
  EXPECT_FALSE(parseBasicAuthorization("Basic YWxpY2U"));   // length not a multiple of 4
  EXPECT_FALSE(parseBasicAuthorization("Basic YWxp*2U6"));  // not base64
  EXPECT_FALSE(parseBasicAuthorization("Basic YW=pY2U6"));  // '=' inside
  EXPECT_FALSE(parseBasicAuthorization("Basic YWxpY2U="));  // "alice": no ':'
}

TEST(BasicAuthTest, CryptIsBcrypt) {
  // Openwall crypt_blowfish's test vector.
  EXPECT_EQ(BasicAuth::crypt("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC."),
            "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
  EXPECT_EQ(BasicAuth::crypt("x", "not a setting"), "");
}

TEST(BasicAuthTest, ChecksPasswordsAgainstBcryptHashes) {
  for (const char* prefix : {"$2b$", "$2y$", "$2a$"}) {
    const std::string hash = bcryptHash("s3cret", prefix);
    ASSERT_EQ(hash.size(), 60U) << prefix;
    ASSERT_EQ(hash.substr(0, 4), prefix);
    const BasicAuth auth({{"alice", hash}});
    EXPECT_TRUE(auth.enabled());
    EXPECT_TRUE(auth.check(header("alice:s3cret").c_str())) << prefix;
    EXPECT_FALSE(auth.check(header("alice:wrong").c_str())) << prefix;
    EXPECT_FALSE(auth.check(header("mallory:s3cret").c_str())) << "unknown user";
    EXPECT_FALSE(auth.check(nullptr));
    EXPECT_FALSE(auth.check("Basic !!!!"));
  }
  EXPECT_FALSE(BasicAuth({}).enabled());
}

TEST(BasicAuthTest, RandomSaltsGiveDifferentHashesThatBothVerify) {
  const std::string a = bcryptHash("s3cret");
  const std::string b = bcryptHash("s3cret");
  EXPECT_NE(a, b);
  EXPECT_TRUE(BasicAuth({{"alice", b}}).check(header("alice:s3cret").c_str()));
}

}  // namespace
}  // namespace gomodprobe::web
