// lane_cluster_s with hiredis: see cluster.hpp. Linux only (eventfd, poll).
#include "cluster.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

#include "exec/lane.hpp"
#include "script.hpp"

using lane::cluster::Options;

namespace lane::cluster {

bool available() { return true; }

namespace {

std::int64_t mono_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string user, password;
};

// redis://[[user]:password@]host[:port][/db]
bool parse_url(const std::string &url, Endpoint &e, std::string *why) {
  constexpr std::string_view scheme = "redis://";
  if (url.rfind(scheme, 0) != 0) {
    *why = "url must start with redis:// (got \"" + url + "\")";
    return false;
  }
  std::string rest = url.substr(scheme.size());
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = cred.find(':'); colon != std::string::npos) {
      e.user = cred.substr(0, colon);
      e.password = cred.substr(colon + 1);
    } else {
      e.password = cred;
    }
  }
  std::string hostport = rest;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    hostport = rest.substr(0, slash);
    const std::string db = rest.substr(slash + 1);
    if (!db.empty()) {
      auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), e.db);
      if (ec != std::errc() || p != db.data() + db.size() || e.db < 0) {
        *why = "bad database number in url \"" + url + "\"";
        return false;
      }
    }
  }
  if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    const std::string port = hostport.substr(colon + 1);
    hostport = hostport.substr(0, colon);
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), e.port);
    if (ec != std::errc() || p != port.data() + port.size() || e.port <= 0 || e.port > 65535) {
      *why = "bad port in url \"" + url + "\"";
      return false;
    }
  }
  if (!hostport.empty()) e.host = hostport;
  return true;
}

struct ReplyFree {
  void operator()(redisReply *r) const {
    if (r) freeReplyObject(r);
  }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

struct ContextFree {
  void operator()(redisContext *c) const {
    if (c) redisFree(c);
  }
};
using Context = std::unique_ptr<redisContext, ContextFree>;

Reply command(redisContext *c, const std::vector<std::string> &args) {
  std::vector<const char *> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto &a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return Reply(static_cast<redisReply *>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
}

timeval to_tv(std::int64_t ns) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  tv.tv_usec = static_cast<suseconds_t>((ns % 1'000'000'000) / 1000);
  return tv;
}

// Connects, authenticates and selects the database; nullptr with *why.
Context connect(const Endpoint &e, std::int64_t timeout_ns, std::string *why) {
  const timeval tv = to_tv(timeout_ns);
  Context c(redisConnectWithTimeout(e.host.c_str(), e.port, tv));
  if (!c || c->err) {
    *why = "cannot connect to redis at " + e.host + ":" + std::to_string(e.port) + ": " + (c ? c->errstr : "out of memory");
    return nullptr;
  }
  redisSetTimeout(c.get(), tv);
  auto check = [&](Reply r, const char *what) {
    if (!r) {
      *why = std::string(what) + ": " + c->errstr;
      return false;
    }
    if (r->type == REDIS_REPLY_ERROR) {
      *why = std::string(what) + ": " + std::string(r->str, r->len);
      return false;
    }
    return true;
  };
  if (!e.password.empty()) {
    std::vector<std::string> a{"AUTH"};
    if (!e.user.empty()) a.push_back(e.user);
    a.push_back(e.password);
    if (!check(command(c.get(), a), "AUTH")) return nullptr;
  }
  if (e.db != 0 && !check(command(c.get(), {"SELECT", std::to_string(e.db)}), "SELECT")) return nullptr;
  if (!check(command(c.get(), {"PING"}), "PING")) return nullptr;
  return c;
}

std::string member_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "host");
  std::random_device rd;
  const std::uint64_t r = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char buf[320];
  std::snprintf(buf, sizeof buf, "%s:%d:%016llx", host, static_cast<int>(getpid()), static_cast<unsigned long long>(r));
  return buf;
}

std::uint64_t to_u64(const redisReply *r) {
  if (r->type == REDIS_REPLY_INTEGER) return static_cast<std::uint64_t>(r->integer);
  std::uint64_t v = 0;
  if (r->type == REDIS_REPLY_STRING) std::from_chars(r->str, r->str + r->len, v);
  return v;
}

}  // namespace

// One member lane.
struct Member final : exec::SlotLink {
  lane_s *lane = nullptr;
  std::string name;
  std::string id;  // the cluster's id, "/", a number of its own
  std::vector<std::string> keys;
  lane_cluster_s::Impl *impl = nullptr;
  std::atomic<bool> dirty{true};
  std::uint32_t cap_sent = 0;  // the cap as last set in Redis (0: never)
  // The rate limits (requests, cost) as last sent (false: never, or Redis
  // may have lost them), and when the arbiter said the next grant may go.
  bool rate_sent[2] = {false, false};
  std::int64_t rate_args[2][3] = {{0, 0, 0}, {0, 0, 0}};
  std::int64_t retry_at_ms = 0;  // steady clock; 0: nothing to retry
  // Redis Cluster: "host:port" of the node that serves the lane's hash slot
  // when it is not the url's (learned from a MOVED answer); empty: the url's.
  std::string node;
  // Under Impl::mu.
  bool leaving = false, left = false;

  void poke() noexcept override;
};

}  // namespace lane::cluster

using lane::cluster::Member;

struct lane_cluster_s::Impl {
  Options opts;
  lane::cluster::Endpoint endpoint;
  std::string id = lane::cluster::member_id();
  std::string channel_prefix;  // PUBLISH channel of a member: channel_prefix + its id
  int wake_fd = -1;

  std::mutex mu;  // guards members and the leave flags
  std::condition_variable left_cv;
  std::vector<std::shared_ptr<Member>> members;
  std::uint64_t joined = 0;  // members ever joined: the next member's number
  bool stop = false;

  // The thread's own: the url's node (commands, subscription; a PUBLISH on
  // a Redis Cluster reaches every node's subscribers) and the other nodes
  // that serve some member lane's hash slot, by "host:port".
  lane::cluster::Context cmd, sub;
  std::map<std::string, lane::cluster::Context, std::less<>> nodes;
  std::string sha;  // the script's SHA1 once loaded
  std::thread thread;

  void wake() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_fd, &one, sizeof one);
  }
  bool connect_both(std::string *why);
  void disconnect() {
    cmd.reset();
    sub.reset();
    nodes.clear();
  }
  // The connection for m's lane (its node's, connected on first use);
  // nullptr if that node cannot be reached.
  redisContext *conn_for(Member &m);
  void run();
  // One arbiter step for m; false if Redis could not be reached.
  bool sync(Member &m, bool leave);
  void on_messages();
};

void lane::cluster::Member::poke() noexcept {
  dirty.store(true, std::memory_order_relaxed);
  impl->wake();
}

bool lane_cluster_s::Impl::connect_both(std::string *why) {
  cmd = lane::cluster::connect(endpoint, opts.timeout_ns, why);
  if (!cmd) return false;
  sub = lane::cluster::connect(endpoint, opts.timeout_ns, why);
  if (!sub) {
    cmd.reset();
    return false;
  }
  // Every member lane of this cluster has its own id (two lanes of one name
  // on one cluster are two members) and its own channel under ours.
  auto r = lane::cluster::command(sub.get(), {"PSUBSCRIBE", channel_prefix + id + "/*"});
  if (!r || r->type == REDIS_REPLY_ERROR) {
    *why = "SUBSCRIBE failed";
    disconnect();
    return false;
  }
  auto l = lane::cluster::command(cmd.get(), {"SCRIPT", "LOAD", lane::cluster::kArbiterScript});
  if (!l || l->type != REDIS_REPLY_STRING) {
    *why = l && l->type == REDIS_REPLY_ERROR ? std::string("SCRIPT LOAD: ") + l->str : "SCRIPT LOAD failed";
    disconnect();
    return false;
  }
  sha.assign(l->str, l->len);
  return true;
}

redisContext *lane_cluster_s::Impl::conn_for(Member &m) {
  if (m.node.empty()) return cmd.get();
  if (auto it = nodes.find(m.node); it != nodes.end()) return it->second.get();
  lane::cluster::Endpoint e = endpoint;  // same credentials; a cluster has only db 0
  e.db = 0;
  const auto colon = m.node.rfind(':');
  if (colon != 0) e.host = m.node.substr(0, colon);  // ":port": the url's host
  const std::string port = m.node.substr(colon + 1);
  if (std::from_chars(port.data(), port.data() + port.size(), e.port).ec != std::errc()) return nullptr;
  std::string why;
  lane::cluster::Context c = lane::cluster::connect(e, opts.timeout_ns, &why);
  if (!c) {
    std::fprintf(stderr, "liblane: cluster lane %s: %s\n", m.name.c_str(), why.c_str());
    return nullptr;
  }
  return nodes.emplace(m.node, std::move(c)).first->second.get();
}

bool lane_cluster_s::Impl::sync(Member &m, bool leave) {
  lane::exec::SlotAsk ask = m.lane->slots_ask();
  const std::uint32_t want = ask.demand > ask.held ? ask.demand - ask.held : 0;
  const std::uint32_t cap = ask.cap != m.cap_sent ? ask.cap : 0;
  std::vector<std::string> args{"EVALSHA", sha, "7"};
  args.insert(args.end(), m.keys.begin(), m.keys.end());
  args.push_back(m.id);
  args.push_back(std::to_string(std::max<std::int64_t>(1, opts.lease_ns / 1'000'000)));
  args.push_back(std::to_string(want));
  args.push_back(std::to_string(ask.priority));
  args.push_back(ask.tenant);
  args.push_back(std::to_string(cap));
  args.push_back(channel_prefix);
  args.push_back(m.name);
  args.push_back(leave ? "1" : "0");
  // Only a member with a limit sends it: one that has none yet (just made,
  // its limit set a moment later) must not take the others' away.
  const std::int64_t rate[2][3] = {{ask.rate_amount, ask.rate_per_ns, ask.rate_burst},
                                   {ask.cost_amount, ask.cost_per_ns, ask.cost_burst}};
  bool send_rate[2];
  for (int k = 0; k < 2; ++k) {
    send_rate[k] = rate[k][0] > 0 && (!m.rate_sent[k] || !std::equal(rate[k], rate[k] + 3, m.rate_args[k]));
    for (const std::int64_t v : rate[k]) args.push_back(send_rate[k] ? std::to_string(v) : "-");
  }
  args.push_back(std::to_string(ask.next_cost));
  args.push_back(std::to_string(ask.cost_delta));
  args.push_back(std::to_string(ask.tenants.size()));
  for (const auto &q : ask.tenants) {
    args.push_back(q.name);
    args.push_back(q.limit > 0 ? std::to_string(q.limit) : "-");
    args.push_back(std::to_string(q.need));
  }
  for (const std::uint64_t g : ask.releases) args.push_back(std::to_string(g));
  auto run_script = [&](redisContext *c) {
    if (!c) return lane::cluster::Reply();
    lane::cluster::Reply r = lane::cluster::command(c, args);
    if (r && r->type == REDIS_REPLY_ERROR && std::strncmp(r->str, "NOSCRIPT", 8) == 0) {
      std::vector<std::string> eval = args;  // Redis restarted and lost its script cache, or a new node
      eval[0] = "EVAL";
      eval[1] = lane::cluster::kArbiterScript;
      r = lane::cluster::command(c, eval);
    }
    return r;
  };
  lane::cluster::Reply r = run_script(conn_for(m));
  // Redis Cluster: "MOVED <slot> <host>:<port>" names the node that serves
  // the lane's keys (all under one hash tag); ask it, and keep asking it.
  if (r && r->type == REDIS_REPLY_ERROR && std::strncmp(r->str, "MOVED ", 6) == 0) {
    const std::string_view moved(r->str, r->len);
    const auto sp = moved.rfind(' ');
    if (sp != std::string_view::npos && sp > 6) {
      m.node.assign(moved.substr(sp + 1));
      r = run_script(conn_for(m));
    }
  }
  if (!r) m.node.clear();  // that node is gone (a failover): ask the url's again
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 9 || r->element[0]->type != REDIS_REPLY_ARRAY ||
      r->element[6]->type != REDIS_REPLY_ARRAY || r->element[6]->elements != r->element[0]->elements ||
      r->element[8]->type != REDIS_REPLY_ARRAY || r->element[8]->elements % 2 != 0) {
    m.lane->slots_unreachable(std::move(ask.releases), ask.cost_delta, ask.tenants);
    if (r && r->type == REDIS_REPLY_ERROR) std::fprintf(stderr, "liblane: cluster lane %s: %s\n", m.name.c_str(), r->str);
    return false;
  }
  if (cap != 0) m.cap_sent = cap;
  for (int k = 0; k < 2; ++k) {
    if (!send_rate[k]) continue;
    m.rate_sent[k] = true;
    std::copy(rate[k], rate[k] + 3, m.rate_args[k]);
  }
  // The rate limit holds the next grant back: ask again then (a release
  // elsewhere would not push us, since nothing is granted).
  const std::int64_t wait_ms = static_cast<std::int64_t>(lane::cluster::to_u64(r->element[5]));
  m.retry_at_ms = wait_ms > 0 ? lane::cluster::mono_ms() + wait_ms : 0;
  lane::exec::SlotAnswer a;
  const redisReply *mine = r->element[0];
  a.mine.reserve(mine->elements);
  a.costs.reserve(mine->elements);
  for (std::size_t i = 0; i < mine->elements; ++i) {
    a.mine.push_back(lane::cluster::to_u64(mine->element[i]));
    a.costs.push_back(static_cast<std::int64_t>(lane::cluster::to_u64(r->element[6]->element[i])));
  }
  a.cost_limited = lane::cluster::to_u64(r->element[7]) != 0;
  for (std::size_t i = 0; i + 1 < r->element[8]->elements; i += 2) {
    const redisReply *tn = r->element[8]->element[i];
    if (tn->type != REDIS_REPLY_STRING) continue;
    a.quotas.emplace_back(std::string(tn->str, tn->len),
                          static_cast<std::uint32_t>(lane::cluster::to_u64(r->element[8]->element[i + 1])));
  }
  a.refused = static_cast<std::uint32_t>(lane::cluster::to_u64(r->element[1]));
  a.global_running = static_cast<std::uint32_t>(lane::cluster::to_u64(r->element[2]));
  a.global_queued = static_cast<std::uint32_t>(lane::cluster::to_u64(r->element[3]));
  m.lane->slots_answer(a);  // after a leave it holds nothing: this only counts refusals
  return true;
}

// Grant messages on the subscriber connection: each names a lane of ours.
void lane_cluster_s::Impl::on_messages() {
  if (redisBufferRead(sub.get()) != REDIS_OK) {
    disconnect();
    return;
  }
  for (;;) {
    void *raw = nullptr;
    if (redisGetReplyFromReader(sub.get(), &raw) != REDIS_OK) {
      disconnect();
      return;
    }
    if (!raw) return;
    lane::cluster::Reply r(static_cast<redisReply *>(raw));
    // ["pmessage", pattern, channel, lane name]: the channel ends with the member's id.
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 || r->element[2]->type != REDIS_REPLY_STRING) continue;
    const std::string_view channel(r->element[2]->str, r->element[2]->len);
    std::lock_guard lk(mu);
    for (auto &m : members) {
      if (channel.size() > m->id.size() && channel.ends_with(m->id)) m->dirty.store(true, std::memory_order_relaxed);
    }
  }
}

void lane_cluster_s::Impl::run() {
  const std::int64_t renew_every = std::max<std::int64_t>(1, opts.lease_ns / 3 / 1'000'000);
  std::int64_t next_renew = 0, next_retry = 0;
  bool was_down = false;
  for (;;) {
    const std::int64_t now = lane::cluster::mono_ms();
    std::int64_t until = cmd ? next_renew : next_retry;
    if (cmd) {
      std::lock_guard lk(mu);
      for (const auto &m : members) {
        if (m->retry_at_ms != 0) until = std::min(until, m->retry_at_ms);
      }
    }
    pollfd fds[2] = {{wake_fd, POLLIN, 0}, {sub ? sub->fd : -1, POLLIN, 0}};
    const int timeout = static_cast<int>(std::clamp<std::int64_t>(until - now, 0, 1000));
    // Data the reader already holds would not wake poll.
    const bool buffered = sub && sub->reader && sub->reader->len > sub->reader->pos;
    if (!buffered) poll(fds, sub ? 2 : 1, timeout);
    if (fds[0].revents & POLLIN) {
      std::uint64_t n;
      [[maybe_unused]] auto got = read(wake_fd, &n, sizeof n);
    }
    if (sub && (buffered || (fds[1].revents & (POLLIN | POLLERR | POLLHUP)))) on_messages();

    std::vector<std::shared_ptr<Member>> list;
    {
      std::lock_guard lk(mu);
      if (stop) return;
      list = members;
    }
    const std::int64_t t = lane::cluster::mono_ms();
    if (!cmd) {
      if (t < next_retry) continue;
      std::string why;
      if (!connect_both(&why)) {
        next_retry = t + std::min<std::int64_t>(renew_every, 200);
        for (auto &m : list) {
          bool leaving, gone;
          {
            std::lock_guard lk(mu);
            leaving = m->leaving;
            gone = m->left;  // its lane may be freed already: never touch it again
          }
          if (gone) continue;
          if (leaving) {
            std::lock_guard lk(mu);
            m->left = true;  // its leases run out on their own
            left_cv.notify_all();
          } else {
            lane::exec::SlotAsk ask = m->lane->slots_ask();
            m->lane->slots_unreachable(std::move(ask.releases), ask.cost_delta, ask.tenants);
          }
        }
        was_down = true;
        continue;
      }
      if (was_down) {
        for (auto &m : list) {
          m->cap_sent = 0;  // Redis may have lost the cap and the rate limits
          m->rate_sent[0] = m->rate_sent[1] = false;
        }
        was_down = false;
      }
      next_renew = 0;
    }
    const bool renew = t >= next_renew;
    if (renew) next_renew = t + renew_every;
    for (auto &m : list) {
      bool leaving;
      {
        std::lock_guard lk(mu);
        if (m->left) continue;  // its lane may be freed already: never touch it again
        leaving = m->leaving;
      }
      const bool retry = m->retry_at_ms != 0 && t >= m->retry_at_ms;
      if (!renew && !leaving && !retry && !m->dirty.exchange(false, std::memory_order_relaxed)) continue;
      if (renew) m->dirty.store(false, std::memory_order_relaxed);
      const bool ok = cmd && sync(*m, leaving);
      if (!ok) {
        disconnect();
        next_retry = t;
        was_down = true;
      }
      if (leaving) {
        std::lock_guard lk(mu);
        m->left = true;
        left_cv.notify_all();
      }
      if (!ok) break;
    }
  }
}

lane_cluster_s::lane_cluster_s(const Options &opts) : options(opts), impl_(std::make_unique<Impl>()) {
  impl_->opts = opts;
}

lane_cluster_s::~lane_cluster_s() {
  magic.store(0, std::memory_order_relaxed);
  if (impl_->thread.joinable()) {
    {
      std::lock_guard lk(impl_->mu);
      impl_->stop = true;
    }
    impl_->wake();
    impl_->thread.join();
  }
  if (impl_->wake_fd >= 0) close(impl_->wake_fd);
}

lane_status_t lane_cluster_s::create(const Options &opts, lane_cluster_s **out, std::string *why) {
  *out = nullptr;
  std::unique_ptr<lane_cluster_s> c(new lane_cluster_s(opts));
  Impl &im = *c->impl_;
  if (!lane::cluster::parse_url(opts.url, im.endpoint, why)) return LANE_ERR_INVALID;
  im.channel_prefix = opts.prefix + ":grant:";
  im.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (im.wake_fd < 0) {
    *why = std::string("eventfd: ") + std::strerror(errno);
    return LANE_ERR_INTERNAL;
  }
  if (!im.connect_both(why)) return LANE_ERR_UNAVAILABLE;
  im.thread = std::thread([&im] { im.run(); });
  *out = c.release();
  return LANE_OK;
}

void lane_cluster_s::join(lane_s *lane) {
  auto m = std::make_shared<Member>();
  m->lane = lane;
  m->name = lane->name;
  m->impl = impl_.get();
  const std::string base = "{" + options.prefix + ":" + lane->name + "}:";
  for (const char *k : {"slots", "members", "fence", "waiters", "tenants", "config", "quota"}) m->keys.push_back(base + k);
  lane->link_slots(m.get(), options.fallback_slots);
  {
    std::lock_guard lk(impl_->mu);
    m->id = impl_->id + "/" + std::to_string(++impl_->joined);
    impl_->members.push_back(m);
  }
  impl_->wake();
}

void lane_cluster_s::leave(lane_s *lane) noexcept {
  std::unique_lock lk(impl_->mu);
  auto it = std::find_if(impl_->members.begin(), impl_->members.end(), [&](auto &m) { return m->lane == lane; });
  if (it == impl_->members.end()) return;
  std::shared_ptr<Member> m = *it;
  m->leaving = true;
  lk.unlock();
  impl_->wake();
  lk.lock();
  impl_->left_cv.wait(lk, [&] { return m->left; });
  std::erase(impl_->members, m);
}

std::size_t lane_cluster_s::members() {
  std::lock_guard lk(impl_->mu);
  return impl_->members.size();
}
