#include "probe/dns_probe.h"

#include <algorithm>
#include <memory>
#include <set>
#include <tuple>
#include <utility>

#include "net/dns_lookup.h"
#include "probe/run_frame.h"

namespace gomodprobe::probe {

namespace {

class DnsRun final : public RunFrame, public std::enable_shared_from_this<DnsRun> {
 public:
  DnsRun(TargetConfig target, net::EventLoop& loop, ProbeCallback done)
      : RunFrame(std::move(target), loop, std::move(done)) {}

  void start() {
    beginRun([self = shared_from_this()] { self->onDeadline(); });
    for (const auto& name : target().names) {
      for (const auto& resolver : target().resolvers) {
        for (const DnsRecordType type : target().record_types) {
          DnsQuery query;
          query.name = name;
          query.resolver = resolver.label();
          query.type = type;
          result().dns_queries.push_back(std::move(query));
        }
      }
    }
    pending_ = result().dns_queries.size();
    std::size_t index = 0;
    for (const auto& name : target().names) {
      for (const auto& resolver : target().resolvers) {
        for (const DnsRecordType type : target().record_types) {
          std::weak_ptr<DnsRun> weak = weak_from_this();
          net::queryDns(loop(), resolver, name, type, [weak, index](DnsQuery query) {
            if (auto self = weak.lock()) self->onAnswer(index, std::move(query));
          });
          ++index;
          if (finished()) return;
        }
      }
    }
  }

 private:
  void onAnswer(std::size_t index, DnsQuery query) {
    if (finished() || answered_.contains(index)) return;
    answered_.insert(index);
    result().dns_queries[index] = std::move(query);
    if (--pending_ == 0) finish();
  }

  void onDeadline() {
    const double timeout = std::chrono::duration<double>(target().timeout).count();
    for (std::size_t i = 0; i < result().dns_queries.size(); ++i) {
      if (answered_.contains(i)) continue;
      DnsQuery& query = result().dns_queries[i];
      query.reason = FailureReason::DnsTimeout;
      query.detail = "no answer before the deadline";
      query.duration_seconds = timeout;
    }
    finish();
  }

  void judge() {
    // 1. Every query answered NOERROR.
    for (const auto& q : result().dns_queries) {
      if (q.reason != FailureReason::None && q.reason != FailureReason::DnsNoAnswer) {
        fail(q.reason, q);
        break;
      }
    }
    // 2. Each name has a record from each resolver.
    if (result().reason == FailureReason::None) {
      for (const auto& name : target().names) {
        for (const auto& resolver : target().resolvers) {
          const std::string label = resolver.label();
          const bool any = std::any_of(
              result().dns_queries.begin(), result().dns_queries.end(), [&](const DnsQuery& q) {
                return q.name == name && q.resolver == label && !q.answers.empty();
              });
          if (!any && result().reason == FailureReason::None) {
            result().reason = FailureReason::DnsNoAnswer;
            result().detail = "resolver ";
            result().detail.append(label).append(": no record for ").append(name);
          }
        }
      }
    }
    // 3. Agreement per name, among the resolvers that answered.
    for (const auto& name : target().names) {
      std::map<std::string, std::vector<std::tuple<DnsRecordType, int, std::vector<std::string>>>>
          per_resolver;
      for (const auto& q : result().dns_queries) {
        if (q.name != name) continue;
        auto& entry = per_resolver[q.resolver];
        entry.emplace_back(q.type, q.rcode.value_or(-1), q.answers);
      }
      std::set<decltype(per_resolver)::mapped_type> distinct;
      std::size_t answering = 0;
      std::string first_resolver;
      for (const auto& [resolver, answers] : per_resolver) {
        const bool responded = std::all_of(answers.begin(), answers.end(),
                                           [](const auto& a) { return std::get<1>(a) >= 0; });
        if (!responded) continue;
        ++answering;
        distinct.insert(answers);
      }
      if (answering < 2) continue;
      const bool agree = distinct.size() == 1;
      result().names_agree.push_back(DnsNameAgreement{name, agree});
      if (!agree && result().reason == FailureReason::None) {
        result().reason = FailureReason::DnsError;
        result().detail = "resolvers disagree on " + name + ":";
        for (const auto& q : result().dns_queries) {
          if (q.name != name) continue;
          std::string answers;
          for (const auto& a : q.answers) answers += (answers.empty() ? "" : ",") + a;
          result().detail +=
              " " + q.resolver + " " + toString(q.type) + "=" + (answers.empty() ? "-" : answers);
        }
      }
    }
  }

  void fail(FailureReason reason, const DnsQuery& q) {
    result().reason = reason;
    result().detail =
        "resolver " + q.resolver + ": " + q.name + " " + toString(q.type) + ": " + q.detail;
  }

  void finish() {
    if (!endRun()) return;
    judge();
    result().success = result().reason == FailureReason::None;
    auto keep = shared_from_this();
    deliver();
  }

  std::size_t pending_ = 0;
  std::set<std::size_t> answered_;
};

}  // namespace

DnsProbe::DnsProbe(TargetConfig target, net::EventLoop& loop)
    : target_(std::move(target)), loop_(loop) {}

void DnsProbe::run(ProbeCallback done) {
  std::make_shared<DnsRun>(target_, loop_, std::move(done))->start();
}

}  // namespace gomodprobe::probe
