#pragma once

#include <yaml-cpp/mark.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gomodprobe::config {

class YamlTree;

namespace yaml_detail {

/// An append-only array in blocks of kBlock elements, each allocated when the previous one is
/// full. Growing never copies (a vector holds its old and new block while it doubles), and the
/// blocks are large, so that once freed they are whole pages malloc can return, not holes
/// between the allocations made while the array lived (std::deque's 512-byte chunks are).
template <typename T, std::size_t kBlock>
class BlockArray {
 public:
  T& emplaceBack() {
    if (blocks_.empty() || blocks_.back().size() == kBlock) blocks_.emplace_back().reserve(kBlock);
    ++size_;
    return blocks_.back().emplace_back();
  }
  [[nodiscard]] T& operator[](std::size_t i) { return blocks_[i / kBlock][i % kBlock]; }
  [[nodiscard]] const T& operator[](std::size_t i) const { return blocks_[i / kBlock][i % kBlock]; }
  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  std::vector<std::vector<T>> blocks_;
  std::size_t size_ = 0;
};

}  // namespace yaml_detail

/// One node of a YamlTree: a cheap handle (the tree and an index), valid while the tree lives.
/// Types, marks, tags and scalar text are those yaml-cpp's YAML::Load gives the same document
/// (yaml-cpp 0.7 NodeBuilder semantics): a null ("~", "null", an empty value) is Null, not a
/// Scalar; an alias ("*a") is the anchored node itself, with the anchor's mark; a merge key
/// ("<<") is an ordinary key; duplicate map keys are all kept, in document order.
class YamlNode {
 public:
  enum class Type : std::uint8_t { Null, Scalar, Sequence, Map };

  YamlNode(const YamlTree& tree, std::uint32_t index) : tree_(&tree), index_(index) {}

  [[nodiscard]] Type type() const;
  [[nodiscard]] bool isNull() const { return type() == Type::Null; }
  [[nodiscard]] bool isScalar() const { return type() == Type::Scalar; }
  [[nodiscard]] bool isSequence() const { return type() == Type::Sequence; }
  [[nodiscard]] bool isMap() const { return type() == Type::Map; }
  /// Where the node starts (0-based line and column, as yaml-cpp reports them; for a null value
  /// the mark of the token after it).
  [[nodiscard]] const YAML::Mark& mark() const;
  /// The tag as yaml-cpp's parser reports it: "?" for a plain untagged node, "!" for a quoted
  /// untagged scalar, "tag:yaml.org,2002:str" for "!!str", "" for a null.
  [[nodiscard]] const std::string& tag() const;
  /// A scalar's text (empty for other types).
  [[nodiscard]] std::string_view scalar() const;
  /// Items of a sequence, pairs of a map, 0 otherwise.
  [[nodiscard]] std::size_t size() const;
  /// Item `i` (< size()) of a sequence.
  [[nodiscard]] YamlNode item(std::size_t i) const;
  /// Key and value of pair `i` (< size()) of a map.
  [[nodiscard]] YamlNode key(std::size_t i) const;
  [[nodiscard]] YamlNode value(std::size_t i) const;
  /// The value of the first scalar key equal to `name` in a map; nullopt when there is none.
  [[nodiscard]] std::optional<YamlNode> find(std::string_view name) const;
  /// The same node (an alias and its anchor are the same node).
  [[nodiscard]] bool operator==(const YamlNode& other) const {
    return tree_ == other.tree_ && index_ == other.index_;
  }

 private:
  [[nodiscard]] YamlNode child(std::size_t i) const;

  const YamlTree* tree_;
  std::uint32_t index_;
};

/// The first document of a YAML text, parsed by yaml-cpp's event parser (YAML::Parser with a
/// YAML::EventHandler) into a compact tree instead of yaml-cpp's node graph: about 30 bytes per
/// node plus its scalar text, where a YAML::Node costs several hundred (a 10,000-target config
/// is ~150,000 nodes). Immutable once built; not copyable (nodes point into it).
class YamlTree {
 public:
  /// Parses `yaml`: builds its first document and scans a second one, if any, without building
  /// it. Throws YAML::Exception (a YAML::ParserException with the mark of the offending token)
  /// on malformed YAML in either document, including the stray-token case that makes
  /// YAML::LoadAll loop forever in yaml-cpp < 0.8 (jbeder/yaml-cpp#1040).
  [[nodiscard]] static YamlTree parse(std::string_view yaml);

  YamlTree(const YamlTree&) = delete;
  YamlTree& operator=(const YamlTree&) = delete;
  YamlTree(YamlTree&&) = default;
  YamlTree& operator=(YamlTree&&) = default;
  ~YamlTree() = default;

  /// The first document's root; nullopt when the text has no document at all.
  [[nodiscard]] std::optional<YamlNode> root() const;
  /// The root node's mark of a second document, if the text has one.
  [[nodiscard]] const std::optional<YAML::Mark>& secondDocument() const { return second_; }
  /// Nodes built (an alias adds none).
  [[nodiscard]] std::size_t nodeCount() const { return nodes_.size(); }

 private:
  friend class YamlNode;
  friend class YamlTreeBuilder;
  YamlTree() = default;

  struct NodeData {
    YAML::Mark mark;
    std::uint32_t tag = 0;    // index into tags_
    std::uint32_t first = 0;  // scalar: offset in text_; collection: index in children_
    std::uint32_t count = 0;  // scalar: length; sequence: items; map: 2 × pairs (key, value)
    YamlNode::Type type = YamlNode::Type::Null;
  };

  yaml_detail::BlockArray<NodeData, 8192> nodes_;           // blocks of 224 KB
  yaml_detail::BlockArray<std::uint32_t, 32768> children_;  // blocks of 128 KB
  std::string text_;                                        // all scalar texts, back to back
  std::vector<std::string> tags_;                           // distinct tags (a handful)
  std::optional<std::uint32_t> root_;
  std::optional<YAML::Mark> second_;
};

}  // namespace gomodprobe::config
