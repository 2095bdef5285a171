#include "config/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <limits>
#include <sstream>
#include <utility>

namespace gomodprobe::config {

/// Builds a YamlTree from the parser's events, as yaml-cpp's NodeBuilder builds its node graph:
/// every event makes one node except an alias, which reuses the anchored node. Only the first
/// document is built; of a second one only the document and root marks are kept.
class YamlTreeBuilder final : public YAML::EventHandler {
 public:
  struct Document {
    YAML::Mark start;  ///< the document's first token (e.g. "---")
    YAML::Mark root;   ///< its root node
  };

  explicit YamlTreeBuilder(YamlTree& tree) : tree_(tree) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    documents_.push_back({mark, mark});
    root_seen_ = false;
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (!building(mark)) return;
    complete(add(mark, "", anchor, YamlNode::Type::Null));
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (!building(mark)) return;
    if (anchor >= anchors_.size()) {
      // The parser throws for an unknown anchor before it calls this; stay safe regardless.
      throw YAML::ParserException(mark, "the referenced anchor is not defined");
    }
    complete(anchors_[anchor]);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (!building(mark)) return;
    if (value.size() > kMaxSize - tree_.text_.size()) {
      throw YAML::ParserException(mark, "YAML text too large");
    }
    const std::uint32_t index = add(mark, tag, anchor, YamlNode::Type::Scalar);
    YamlTree::NodeData& node = tree_.nodes_[index];
    node.first = static_cast<std::uint32_t>(tree_.text_.size());
    node.count = static_cast<std::uint32_t>(value.size());
    tree_.text_ += value;
    complete(index);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    if (!building(mark)) return;
    open(add(mark, tag, anchor, YamlNode::Type::Sequence));
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    if (!building(mark)) return;
    open(add(mark, tag, anchor, YamlNode::Type::Map));
  }
  void OnMapEnd() override { close(); }

  [[nodiscard]] const std::vector<Document>& documents() const { return documents_; }

 private:
  static constexpr std::size_t kMaxSize = std::numeric_limits<std::uint32_t>::max();

  // True while the first document is being built; for later documents records the root's mark.
  bool building(const YAML::Mark& mark) {
    if (documents_.size() == 1) return true;
    if (!root_seen_ && !documents_.empty()) {
      documents_.back().root = mark;
      root_seen_ = true;
    }
    return false;
  }

  std::uint32_t add(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                    YamlNode::Type type) {
    if (tree_.nodes_.size() >= kMaxSize) throw YAML::ParserException(mark, "too many YAML nodes");
    const auto index = static_cast<std::uint32_t>(tree_.nodes_.size());
    YamlTree::NodeData& node = tree_.nodes_.emplaceBack();
    node.mark = mark;
    node.tag = tagIndex(tag);
    node.type = type;
    if (anchor != 0) {
      // Anchors are numbered 1, 2, ... in document order.
      if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
      anchors_[anchor] = index;
    }
    return index;
  }

  std::uint32_t tagIndex(const std::string& tag) {
    auto& tags = tree_.tags_;
    const auto it = std::find(tags.begin(), tags.end(), tag);
    if (it != tags.end()) return static_cast<std::uint32_t>(it - tags.begin());
    tags.push_back(tag);
    return static_cast<std::uint32_t>(tags.size() - 1);
  }

  void open(std::uint32_t index) {
    if (depth_ == open_.size()) open_.emplace_back();
    open_[depth_].node = index;
    open_[depth_].children.clear();
    ++depth_;
  }

  void close() {
    if (documents_.size() != 1) return;
    --depth_;
    Open& collection = open_[depth_];
    YamlTree::NodeData& node = tree_.nodes_[collection.node];
    node.first = static_cast<std::uint32_t>(tree_.children_.size());
    node.count = static_cast<std::uint32_t>(collection.children.size());
    for (const std::uint32_t child : collection.children) tree_.children_.emplaceBack() = child;
    complete(collection.node);
  }

  // A finished node goes into the open collection, or becomes the root.
  void complete(std::uint32_t index) {
    if (depth_ == 0) {
      tree_.root_ = index;
    } else {
      open_[depth_ - 1].children.push_back(index);
    }
  }

  struct Open {
    std::uint32_t node = 0;
    std::vector<std::uint32_t> children;  // kept between uses: its capacity is reused
  };

  YamlTree& tree_;
  std::vector<Document> documents_;
  bool root_seen_ = false;
  std::vector<std::uint32_t> anchors_;
  std::vector<Open> open_;  // [0, depth_) are the collections being built, outermost first
  std::size_t depth_ = 0;
};

YamlTree YamlTree::parse(std::string_view yaml) {
  YamlTree tree;
  tree.text_.reserve(yaml.size());  // scalars are rarely longer than their source
  std::istringstream input{std::string(yaml)};
  YAML::Parser parser(input);
  YamlTreeBuilder builder(tree);
  while (builder.documents().size() < 2 && parser.HandleNextDocument(builder)) {
  }
  const auto& documents = builder.documents();
  // yaml-cpp < 0.8 reports a new empty document at every call without consuming a stray token
  // such as a lone "," (jbeder/yaml-cpp#1040, fixed by #1319; found by fuzzing): a second
  // document that starts where the first did is that bug, a syntax error.
  if (documents.size() == 2 && documents[1].start.pos == documents[0].start.pos) {
    throw YAML::ParserException(documents[1].start, "unexpected token (not valid YAML here)");
  }
  if (documents.size() == 2) tree.second_ = documents[1].root;
  return tree;
}

std::optional<YamlNode> YamlTree::root() const {
  if (!root_) return std::nullopt;
  return YamlNode(*this, *root_);
}

YamlNode::Type YamlNode::type() const { return tree_->nodes_[index_].type; }

const YAML::Mark& YamlNode::mark() const { return tree_->nodes_[index_].mark; }

const std::string& YamlNode::tag() const { return tree_->tags_[tree_->nodes_[index_].tag]; }

std::string_view YamlNode::scalar() const {
  const YamlTree::NodeData& node = tree_->nodes_[index_];
  if (node.type != Type::Scalar) return {};
  return std::string_view(tree_->text_).substr(node.first, node.count);
}

std::size_t YamlNode::size() const {
  const YamlTree::NodeData& node = tree_->nodes_[index_];
  switch (node.type) {
    case Type::Sequence:
      return node.count;
    case Type::Map:
      return node.count / 2;
    case Type::Null:
    case Type::Scalar:
      break;
  }
  return 0;
}

YamlNode YamlNode::child(std::size_t i) const {
  return {*tree_, tree_->children_[tree_->nodes_[index_].first + i]};
}

YamlNode YamlNode::item(std::size_t i) const { return child(i); }

YamlNode YamlNode::key(std::size_t i) const { return child(2 * i); }

YamlNode YamlNode::value(std::size_t i) const { return child((2 * i) + 1); }

std::optional<YamlNode> YamlNode::find(std::string_view name) const {
  if (!isMap()) return std::nullopt;
  for (std::size_t i = 0; i < size(); ++i) {
    const YamlNode k = key(i);
    if (k.isScalar() && k.scalar() == name) return value(i);
  }
  return std::nullopt;
}

}  // namespace gomodprobe::config
