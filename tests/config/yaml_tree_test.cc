// YamlTree against yaml-cpp's own YAML::Load: the loader switched from the node graph to this
// tree, and every config error's file:line:column comes from these marks.

#include "config/yaml_tree.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.h"

namespace gomodprobe::config {
namespace yaml_tree_test {

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";

YamlNode rootOf(const YamlTree& tree) {
  const auto root = tree.root();
  EXPECT_TRUE(root.has_value());
  return root.value_or(YamlNode(tree, 0));
}

/// Line and column, 1-based as in config errors.
std::string where(const YamlNode& node) {
  return std::to_string(node.mark().line + 1) + ":" + std::to_string(node.mark().column + 1);
}

/// yaml-cpp's node type as a YamlNode::Type (Undefined, which a loaded tree never has, as Null).
YamlNode::Type treeType(const YAML::Node& node) {
  if (node.IsScalar()) return YamlNode::Type::Scalar;
  if (node.IsSequence()) return YamlNode::Type::Sequence;
  if (node.IsMap()) return YamlNode::Type::Map;
  EXPECT_TRUE(node.IsNull());
  return YamlNode::Type::Null;
}

/// Compares type, mark, tag, scalar and children recursively (to a depth: an alias inside its
/// own anchor makes a cycle in both).
void expectSame(const YAML::Node& expected, const YamlNode& actual, const std::string& path,
                int depth = 0) {
  if (depth > 40) return;
  SCOPED_TRACE(path);
  ASSERT_EQ(static_cast<int>(actual.type()), static_cast<int>(treeType(expected)));
  EXPECT_EQ(actual.mark().pos, expected.Mark().pos);
  EXPECT_EQ(actual.mark().line, expected.Mark().line);
  EXPECT_EQ(actual.mark().column, expected.Mark().column);
  EXPECT_EQ(actual.tag(), expected.Tag());
  if (expected.IsScalar()) EXPECT_EQ(actual.scalar(), expected.Scalar());
  if (expected.IsSequence()) {
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
      expectSame(expected[i], actual.item(i), path + "/" + std::to_string(i), depth + 1);
    }
  }
  if (expected.IsMap()) {
    ASSERT_EQ(actual.size(), expected.size());
    std::size_t i = 0;
    for (const auto& pair : expected) {
      const std::string here = path + "/" + std::to_string(i);
      expectSame(pair.first, actual.key(i), here + "(key)", depth + 1);
      expectSame(pair.second, actual.value(i), here, depth + 1);
      ++i;
    }
  }
}

/// Parses `yaml` both ways; when yaml-cpp loads it, the trees must agree; when it throws, so
/// must YamlTree, at the same mark.
void expectSameAsYamlCpp(const std::string& yaml) {
  SCOPED_TRACE(yaml.substr(0, 200));
  YAML::Node expected;
  try {
    expected = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    try {
      (void)YamlTree::parse(yaml);
      ADD_FAILURE() << "YamlTree accepted what YAML::Load refuses: " << e.what();
    } catch (const YAML::Exception& mine) {
      EXPECT_EQ(mine.mark.pos, e.mark.pos);
      EXPECT_EQ(mine.msg, e.msg);
    }
    return;
  }
  std::optional<YamlTree> tree;
  try {
    tree.emplace(YamlTree::parse(yaml));
  } catch (const YAML::Exception& e) {
    // Only a second document can fail where YAML::Load (first document only) does not: one
    // after "---", or the empty one yaml-cpp 0.7 reports at a stray token (jbeder/yaml-cpp#1040).
    EXPECT_TRUE(yaml.find("---") != std::string::npos ||
                e.msg == "unexpected token (not valid YAML here)")
        << e.what();
    return;
  }
  const auto root = tree->root();
  if (!root) {
    EXPECT_TRUE(expected.IsNull());
    return;
  }
  expectSame(expected, *root, "");
}

TEST(YamlTreeTest, MatchesYamlCppOnHandWrittenDocuments) {
  for (const std::string yaml : {
           "",
           "# only a comment\n",
           "---\n",
           "a: 1\nb: [x, \"y\", 'z']\nc: {d: e, f: }\n",
           "targets:\n  - name: a\n    kind: http\n    url: https://a.test\n",
           "a:\nb: ~\nc: null\nd: Null\ne: \"null\"\nf: ''\n",
           "- !!str 1\n- !!int 2\n- !custom x\n- !!map {a: b}\n- !!seq [1]\n",
           "a: &x {k: v}\nb: *x\nc: &y [1, 2]\nd: *y\ne: &z s\nf: *z\n",
           "base: &base {a: 1}\nderived:\n  <<: *base\n  b: 2\n",
           "a: 1\na: 2\n",
           "? [complex, key]\n: value\n? {m: 1}\n: v\n",
           "text: |\n  line one\n  line two\nfolded: >-\n  folded\n  text\n",
           "esc: \"tab\\there \\u00e9 \\L \\x41\"\n",
           "a: 1\n---\nb: 2\n",
           "[1, 2\n",
           "a: *nowhere\n",
           "a: b: c\n",
           "- a\nb: c\n",
           "k: &a [*a]\n",
       }) {
    expectSameAsYamlCpp(yaml);
  }
}

// Every input the config fuzzer keeps (tests/fuzz/corpus/config): odd YAML of all kinds.
TEST(YamlTreeTest, MatchesYamlCppOnTheConfigFuzzCorpus) {
  const std::filesystem::path corpus =
      std::filesystem::path(GOMODPROBE_TEST_DATA_DIR) / ".." / "fuzz" / "corpus" / "config";
  ASSERT_TRUE(std::filesystem::is_directory(corpus)) << corpus;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().filename().string());
    expectSameAsYamlCpp(yaml);
    ++files;
  }
  EXPECT_GT(files, 100);
}

TEST(YamlTreeTest, EmptyTextHasNoDocument) {
  EXPECT_FALSE(YamlTree::parse("").root().has_value());
  EXPECT_FALSE(YamlTree::parse("# nothing\n").root().has_value());
  const YamlTree explicit_empty = YamlTree::parse("---\n");
  EXPECT_TRUE(rootOf(explicit_empty).isNull());
}

TEST(YamlTreeTest, NullsAreNullAndQuotedNullIsAString) {
  const YamlTree tree = YamlTree::parse("a:\nb: ~\nc: null\nd: \"null\"\ne: ''\n");
  const YamlNode root = rootOf(tree);
  ASSERT_EQ(root.size(), 5U);
  EXPECT_TRUE(root.value(0).isNull());
  EXPECT_TRUE(root.value(1).isNull());
  EXPECT_TRUE(root.value(2).isNull());
  ASSERT_TRUE(root.value(3).isScalar());
  EXPECT_EQ(root.value(3).scalar(), "null");
  EXPECT_EQ(root.value(3).tag(), "!");
  ASSERT_TRUE(root.value(4).isScalar());
  EXPECT_EQ(root.value(4).scalar(), "");
  // An empty value carries the mark of the next token (the loader points at its key instead).
  EXPECT_EQ(where(root.value(0)), "2:1");
  EXPECT_EQ(root.value(2).scalar(), "");  // not a scalar: no text
}

TEST(YamlTreeTest, MarksAreWhereEachNodeStarts) {
  const YamlTree tree =
      YamlTree::parse("targets:\n  - name: a\n    url: \"https://a.test\"\n    h: [1, 2]\n");
  const YamlNode root = rootOf(tree);
  EXPECT_EQ(where(root), "1:1");
  const YamlNode target = root.value(0).item(0);
  EXPECT_EQ(where(root.value(0)), "2:3");
  EXPECT_EQ(where(target), "2:5");
  EXPECT_EQ(where(target.key(1)), "3:5");
  EXPECT_EQ(where(target.value(1)), "3:10");
  EXPECT_EQ(where(target.value(2).item(1)), "4:12");
  EXPECT_EQ(target.value(1).scalar(), "https://a.test");
}

TEST(YamlTreeTest, TagsAreKeptAsTheParserReportsThem) {
  const YamlTree tree = YamlTree::parse("- !!str 1\n- 2\n- '3'\n- !local x\n");
  const YamlNode root = rootOf(tree);
  EXPECT_EQ(root.item(0).tag(), kStrTag);
  EXPECT_EQ(root.item(0).scalar(), "1");
  EXPECT_EQ(root.item(1).tag(), "?");
  EXPECT_EQ(root.item(2).tag(), "!");
  EXPECT_EQ(root.item(3).tag(), "!local");
}

TEST(YamlTreeTest, AnAliasIsTheAnchoredNodeWithItsMark) {
  const YamlTree tree = YamlTree::parse("a: &x {k: v}\nb: *x\nc: &s text\nd: [*s, *x]\n");
  const YamlNode root = rootOf(tree);
  EXPECT_EQ(root.value(1), root.value(0));
  EXPECT_EQ(where(root.value(1)), "1:4");
  EXPECT_EQ(root.value(1).find("k")->scalar(), "v");
  EXPECT_EQ(root.value(3).item(0), root.value(2));
  EXPECT_EQ(root.value(3).item(1), root.value(0));
  EXPECT_EQ(root.value(3).item(0).scalar(), "text");
}

TEST(YamlTreeTest, MergeKeysAreOrdinaryKeysAsInYamlCpp07) {
  const YamlTree tree = YamlTree::parse("base: &b {a: 1}\nd:\n  <<: *b\n  c: 2\n");
  const YamlNode derived = rootOf(tree).value(1);
  ASSERT_EQ(derived.size(), 2U);
  EXPECT_EQ(derived.key(0).scalar(), "<<");
  EXPECT_EQ(derived.value(0), rootOf(tree).value(0));
  EXPECT_FALSE(derived.find("a").has_value());
}

TEST(YamlTreeTest, DuplicateKeysAreAllKeptAndFindTakesTheFirst) {
  const YamlTree tree = YamlTree::parse("a: 1\nb: 2\na: 3\n");
  const YamlNode root = rootOf(tree);
  ASSERT_EQ(root.size(), 3U);
  EXPECT_EQ(root.key(2).scalar(), "a");
  EXPECT_EQ(root.find("a")->scalar(), "1");
  EXPECT_FALSE(root.find("z").has_value());
}

TEST(YamlTreeTest, ASecondDocumentIsScannedNotBuilt) {
  const YamlTree tree = YamlTree::parse("a: 1\n---\n[b, c]\n");
  EXPECT_TRUE(rootOf(tree).isMap());
  ASSERT_TRUE(tree.secondDocument().has_value());
  EXPECT_EQ(tree.secondDocument()->line, 2);
  EXPECT_EQ(tree.secondDocument()->column, 0);
  EXPECT_EQ(tree.nodeCount(), 3U);  // the map, its key and value
  EXPECT_FALSE(YamlTree::parse("a: 1\n").secondDocument().has_value());
}

TEST(YamlTreeTest, MalformedYamlThrowsWithTheOffendingMark) {
  try {
    (void)YamlTree::parse("a: 1\nb: [1, 2\n");
    FAIL() << "accepted";
  } catch (const YAML::ParserException& e) {
    EXPECT_EQ(e.mark.line, 2);
  }
  // A lone "," made YAML::LoadAll loop forever (jbeder/yaml-cpp#1040); here it is an error.
  try {
    (void)YamlTree::parse("\n,\n");
    FAIL() << "accepted a stray comma";
  } catch (const YAML::ParserException& e) {
    EXPECT_EQ(e.mark.line, 1);
    EXPECT_EQ(e.msg, "unexpected token (not valid YAML here)");
  }
}

TEST(YamlTreeTest, ALargeConfigCostsTensOfBytesPerNode) {
  std::ostringstream yaml;
  yaml << "targets:\n";
  for (int i = 0; i < 1000; ++i) {
    yaml << "  - name: t" << i << "\n    kind: http\n    url: https://127.0.0.1:8443\n";
  }
  const YamlTree tree = YamlTree::parse(yaml.str());
  // 3 top nodes (map, key, sequence) and 7 per target (map, 3 keys, 3 values).
  EXPECT_EQ(tree.nodeCount(), 3U + (7U * 1000));
  EXPECT_EQ(rootOf(tree).value(0).item(999).find("name")->scalar(), "t999");
}

// The loader over the tree: aliases work as before, merge keys are refused as before.
TEST(YamlTreeTest, LoaderAcceptsAliasesAndRefusesMergeKeys) {
  const Config config = parseConfig(
      "global:\n  resolvers: &r [\"192.0.2.53\"]\ntargets:\n"
      "  - name: a\n    kind: http\n    url: https://a.test\n    headers: &h {X-A: \"1\"}\n"
      "  - name: b\n    kind: http\n    url: https://b.test\n    headers: *h\n"
      "    resolvers: *r\n",
      "alias.yml");
  ASSERT_EQ(config.targets.size(), 2U);
  EXPECT_EQ(config.targets[1].headers, config.targets[0].headers);
  EXPECT_EQ(config.targets[1].headers.at("X-A"), "1");
  EXPECT_EQ(config.targets[1].resolvers.at(0).address, "192.0.2.53");
  try {
    (void)parseConfig(
        "targets:\n  - &base\n    name: a\n    kind: http\n    url: https://a.test\n"
        "  - <<: *base\n    name: b\n",
        "merge.yml");
    FAIL() << "merge key accepted";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("merge.yml:6:5: unknown key \"<<\" in target"))
        << e.what();
  }
}

}  // namespace yaml_tree_test
}  // namespace gomodprobe::config
