#include "sumdb/note.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sumdb/encoding.h"
#include "sumdb_test_util.h"

namespace gomodprobe::sumdb {
namespace {

using testing::readDataFile;
using testing::splitLines;

constexpr std::string_view kSumGolangOrgKey =
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

// Vectors from x/mod sumdb/note/note_test.go.
constexpr std::string_view kPeterKey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr std::string_view kEnochKey =
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
constexpr std::string_view kText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const std::string kPeterSig =
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const std::string kEnochSig =
    "\xE2\x80\x94 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
    "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

Verifier mustParse(std::string_view vkey) {
  VerifierParseResult parsed = Verifier::parse(vkey);
  EXPECT_TRUE(parsed.ok()) << vkey << ": " << parsed.error;
  return std::move(parsed.verifier).value();
}

std::string textPlus(std::string_view suffix) { return std::string(kText) + std::string(suffix); }

TEST(NoteVerifierTest, ParsesSumGolangOrgKeyAndRecomputesItsHash) {
  const Verifier verifier = mustParse(kSumGolangOrgKey);
  EXPECT_EQ(verifier.name(), "sum.golang.org");
  EXPECT_EQ(verifier.keyHash(), 0x033de0aeU);
  // The hash is over name, '\n', algorithm byte and public key.
  std::string key(1, static_cast<char>(kAlgEd25519));
  key.append(reinterpret_cast<const char*>(verifier.publicKey().data()),
             verifier.publicKey().size());
  EXPECT_EQ(computeKeyHash("sum.golang.org", key), 0x033de0aeU);
  // The base64 part contains '+': only the first two '+' separate fields.
  EXPECT_EQ(base64Encode(key), "Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8");
}

TEST(NoteVerifierTest, RejectsEveryMangling) {
  // As TestNewVerifier: every proper substring and every single-byte increment fails.
  const std::string key(kPeterKey);
  ASSERT_TRUE(Verifier::parse(key).ok());
  for (std::size_t i = 0; i <= key.size(); ++i) {
    for (std::size_t j = i + 1; j <= key.size(); ++j) {
      if (i == 0 && j == key.size()) continue;
      EXPECT_FALSE(Verifier::parse(key.substr(i, j - i)).ok()) << key.substr(i, j - i);
    }
  }
  for (std::size_t i = 0; i < key.size(); ++i) {
    std::string bad = key;
    ++bad[i];
    EXPECT_FALSE(Verifier::parse(bad).ok()) << bad;
  }
}

TEST(NoteVerifierTest, DistinguishesKeyErrors) {
  EXPECT_EQ(Verifier::parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
                            "LDE4izWy10TWBADKEY==")
                .error,
            "malformed verifier id");  // wrong key length, adjusted hash
  EXPECT_EQ(
      Verifier::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").error,
      "unknown verifier algorithm");  // adjusted hash
  EXPECT_EQ(
      Verifier::parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").error,
      "invalid verifier hash");
  EXPECT_EQ(Verifier::parse("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
                            "LDE4izWy10TW")
                .error,
            "malformed verifier id");  // space in the name
}

TEST(NoteVerifierTest, ParsesGeneratedKeysWhoseBase64ContainsPlus) {
  const std::vector<std::string> keys = splitLines(readDataFile("note_keys.txt"));
  ASSERT_EQ(keys.size(), 3U);
  EXPECT_NE(keys[0].find('+', keys[0].find('+', keys[0].find('+') + 1) + 1), std::string::npos);
  for (const std::string& key : keys) {
    const Verifier verifier = mustParse(key);
    EXPECT_TRUE(key.starts_with(verifier.name() + "+"));
  }
}

TEST(NoteOpenTest, OneKnownSignerVerifiesOtherIsUnverified) {
  const OpenNoteResult result =
      openNote(textPlus("\n" + kPeterSig + kEnochSig), {mustParse(kPeterKey)});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.note->text, kText);
  ASSERT_EQ(result.note->signatures.size(), 1U);
  EXPECT_EQ(result.note->signatures[0].name, "PeterNeumann");
  EXPECT_EQ(result.note->signatures[0].hash, 0xc74f20a3U);
  EXPECT_EQ(result.note->signatures[0].base64,
            "x08go/ZJkuBS9UG/"
            "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=");
  EXPECT_EQ(result.note->signatures[0].signature.size(), 64U);
  ASSERT_EQ(result.note->unverified_signatures.size(), 1U);
  EXPECT_EQ(result.note->unverified_signatures[0].name, "EnochRoot");
  EXPECT_EQ(result.note->unverified_signatures[0].hash, 0xaf0cfe78U);
}

TEST(NoteOpenTest, BothKnownSignersVerify) {
  const OpenNoteResult result = openNote(textPlus("\n" + kPeterSig + kEnochSig),
                                         {mustParse(kPeterKey), mustParse(kEnochKey)});
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.note->signatures.size(), 2U);
  EXPECT_EQ(result.note->signatures[0].name, "PeterNeumann");
  EXPECT_EQ(result.note->signatures[1].name, "EnochRoot");
  EXPECT_TRUE(result.note->unverified_signatures.empty());
}

TEST(NoteOpenTest, NoKnownSignerIsUnverified) {
  const OpenNoteResult result = openNote(textPlus("\n" + kPeterSig + kEnochSig), {});
  EXPECT_EQ(result.status, NoteStatus::Unverified);
  EXPECT_EQ(result.error, "note has no verifiable signatures");
  EXPECT_FALSE(result.note.has_value());
  ASSERT_EQ(result.unverified_signatures.size(), 2U);
  EXPECT_EQ(result.unverified_signatures[0].name, "PeterNeumann");
  EXPECT_EQ(result.unverified_signatures[1].name, "EnochRoot");
}

TEST(NoteOpenTest, DuplicatedVerifierIsAmbiguousOnlyWhenUsed) {
  const std::vector<Verifier> known{mustParse(kEnochKey), mustParse(kPeterKey),
                                    mustParse(kEnochKey)};
  const OpenNoteResult used = openNote(textPlus("\n" + kEnochSig), known);
  EXPECT_EQ(used.status, NoteStatus::AmbiguousKey);
  EXPECT_EQ(used.error, "ambiguous key EnochRoot+af0cfe78");
  EXPECT_TRUE(openNote(textPlus("\n" + kPeterSig), known).ok());
}

TEST(NoteOpenTest, MoreThanOneHundredSignaturesIsMalformed) {
  std::string sigs;
  for (int i = 0; i < 101; ++i) sigs += kPeterSig;
  EXPECT_EQ(openNote(textPlus("\n" + sigs), {mustParse(kPeterKey)}).status, NoteStatus::Malformed);
  EXPECT_EQ(openNote(textPlus("\n" + sigs), {}).status, NoteStatus::Malformed);
  sigs.resize(sigs.size() - kPeterSig.size());
  EXPECT_TRUE(openNote(textPlus("\n" + sigs), {mustParse(kPeterKey)}).ok());
}

TEST(NoteOpenTest, KnownKeyWithBadSignatureFailsTheNote) {
  const std::string bad_sig = kPeterSig.substr(0, 60) + "ABCD" + kPeterSig.substr(60);
  const OpenNoteResult result = openNote(textPlus("\n" + bad_sig), {mustParse(kPeterKey)});
  EXPECT_EQ(result.status, NoteStatus::BadSignature);
  EXPECT_EQ(result.error, "invalid signature for key PeterNeumann+c74f20a3");
}

TEST(NoteOpenTest, DuplicatesAreReportedOnce) {
  const std::string enoch_abcd = kEnochSig.substr(0, 60) + "ABCD" + kEnochSig.substr(60);
  const OpenNoteResult result =
      openNote(textPlus("\n" + kPeterSig + kPeterSig + kEnochSig + kEnochSig + enoch_abcd),
               {mustParse(kPeterKey)});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.note->signatures.size(), 1U);
  ASSERT_EQ(result.note->unverified_signatures.size(), 2U);
  EXPECT_EQ(result.note->unverified_signatures[1].base64,
            "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
            "5nABCD2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=");
}

TEST(NoteOpenTest, MalformedMessages) {
  const std::vector<std::string> bad = {
      std::string(kText),
      textPlus("\n"),
      textPlus("\n" + kPeterSig.substr(0, kPeterSig.size() - 1)),  // no final newline
      "\x01" + textPlus("\n" + kPeterSig),                         // control character
      "\xff" + textPlus("\n" + kPeterSig),                         // invalid UTF-8
      "\xed\xa0\x80" + textPlus("\n" + kPeterSig),                 // UTF-8 surrogate
      "\xc0\xaf" + textPlus("\n" + kPeterSig),                     // overlong UTF-8
      textPlus("\n\xE2\x80\x94 Bad Name "
               "x08go/ZJkuBS9UG/"
               "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="),
      textPlus("\n" + kPeterSig + "Unexpected line.\n"),
      textPlus("\n- PeterNeumann "
               "x08go/ZJkuBS9UG/"
               "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
      textPlus("\n\xE2\x80\x94 PeterNeumann x08g\n"),  // fewer than 5 signature bytes
      textPlus("\n\xE2\x80\x94 PeterNeumann\n"),       // no base64
      textPlus("\r\n" + kPeterSig),                    // '\r' is a control character
  };
  for (const std::string& msg : bad) {
    const OpenNoteResult result = openNote(msg, {mustParse(kPeterKey)});
    EXPECT_EQ(result.status, NoteStatus::Malformed) << msg;
    EXPECT_EQ(result.error, "malformed note");
  }
}

// Vectors generated with x/mod note.GenerateKey/Sign (tests/data/sumdb/gen_vectors.go.txt).
class NoteGeneratedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& key : splitLines(readDataFile("note_keys.txt"))) {
      verifiers_.push_back(mustParse(key));
    }
    ASSERT_EQ(verifiers_.size(), 3U);
    msg_ = readDataFile("note_multi_sig.txt");
    ASSERT_FALSE(msg_.empty());
  }
  std::vector<Verifier> verifiers_;
  std::string msg_;
};

TEST_F(NoteGeneratedTest, AllThreeSignaturesVerify) {
  const OpenNoteResult result = openNote(msg_, verifiers_);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.note->text, kText);
  ASSERT_EQ(result.note->signatures.size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(result.note->signatures[i].name, verifiers_[i].name());
    EXPECT_EQ(result.note->signatures[i].hash, verifiers_[i].keyHash());
  }
}

TEST_F(NoteGeneratedTest, AnySingleKnownSignerIsEnough) {
  for (std::size_t i = 0; i < 3; ++i) {
    const OpenNoteResult result = openNote(msg_, {verifiers_[i]});
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_EQ(result.note->signatures.size(), 1U);
    EXPECT_EQ(result.note->unverified_signatures.size(), 2U);
  }
}

TEST_F(NoteGeneratedTest, TamperedTextIsABadSignature) {
  std::string tampered = msg_;
  tampered[tampered.find("answer")] = 'A';
  EXPECT_EQ(openNote(tampered, verifiers_).status, NoteStatus::BadSignature);
  // Unknown signers only: nothing to verify against, so the note is merely unverified.
  EXPECT_EQ(openNote(tampered, {}).status, NoteStatus::Unverified);
}

TEST_F(NoteGeneratedTest, FlippedSignatureBitIsABadSignature) {
  // Flip one bit inside the signature of the second line (not in the key-hash prefix).
  const std::size_t second = msg_.find("\xE2\x80\x94 example.com/beta ");
  ASSERT_NE(second, std::string::npos);
  const std::size_t b64 = msg_.find(' ', second + 4) + 1;
  const std::size_t eol = msg_.find('\n', b64);
  std::string sig = base64Decode(msg_.substr(b64, eol - b64)).value();
  sig[20] = static_cast<char>(sig[20] ^ 0x01);
  const std::string tampered = msg_.substr(0, b64) + base64Encode(sig) + msg_.substr(eol);
  const OpenNoteResult result = openNote(tampered, verifiers_);
  EXPECT_EQ(result.status, NoteStatus::BadSignature);
  EXPECT_EQ(result.error, "invalid signature for key example.com/beta+7ee67a9d");
}

TEST_F(NoteGeneratedTest, BadUtf8AndMissingTrailingNewlineAreMalformed) {
  std::string bad_utf8 = msg_;
  bad_utf8.insert(3, "\xfe");
  EXPECT_EQ(openNote(bad_utf8, verifiers_).status, NoteStatus::Malformed);
  EXPECT_EQ(openNote(msg_.substr(0, msg_.size() - 1), verifiers_).status, NoteStatus::Malformed);
}

TEST(NoteStatusTest, HasLabels) {
  EXPECT_EQ(toString(NoteStatus::BadSignature), "bad_signature");
  EXPECT_EQ(toString(NoteStatus::Unverified), "unverified");
}

TEST(SumdbEncodingTest, Base64MatchesGoStdEncoding) {
  EXPECT_EQ(base64Decode("").value(), "");
  EXPECT_EQ(base64Decode("Zm9vYmFy").value(), "foobar");
  EXPECT_EQ(base64Decode("Zm9vYg==").value(), "foob");
  EXPECT_EQ(base64Decode("Zm9vYmE=").value(), "fooba");
  EXPECT_EQ(base64Decode("Zm9v\r\nYmFy").value(), "foobar");  // Go skips CR and LF
  EXPECT_EQ(base64Decode("Zm9vYh==").value(), "foob");        // non-strict trailing bits
  EXPECT_FALSE(base64Decode("Zm9vYg").has_value());           // padding required
  EXPECT_FALSE(base64Decode("Zm9vY===").has_value());
  EXPECT_FALSE(base64Decode("Zm9=YmFy").has_value());
  EXPECT_FALSE(base64Decode("Zm9vYg==Zm9v").has_value());
  EXPECT_FALSE(base64Decode("Zm9v-_==").has_value());
  EXPECT_EQ(base64Encode(std::string_view("fooba")), "Zm9vYmE=");
  EXPECT_EQ(base64Encode(std::string_view("foob")), "Zm9vYg==");
}

TEST(SumdbEncodingTest, ParseInt64LikeStrconv) {
  EXPECT_EQ(parseInt64("123456789012"), 123456789012);
  EXPECT_EQ(parseInt64("+5"), 5);
  EXPECT_EQ(parseInt64("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(parseInt64("9223372036854775807"), INT64_MAX);
  EXPECT_FALSE(parseInt64("9223372036854775808").has_value());
  EXPECT_FALSE(parseInt64("").has_value());
  EXPECT_FALSE(parseInt64("0x12").has_value());
  EXPECT_FALSE(parseInt64("1_000").has_value());
}

}  // namespace
}  // namespace gomodprobe::sumdb
