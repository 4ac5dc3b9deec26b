#include "gateway/proxy/event_stream.hpp"

#include <algorithm>

namespace gatelab::proxy {

std::shared_ptr<EventStream::Subscriber> EventStream::subscribe(std::function<void()> wake) {
  auto s = std::make_shared<Subscriber>();
  s->wake = std::move(wake);
  const std::lock_guard lock(mutex_);
  subscribers_.push_back(s);
  return s;
}

void EventStream::unsubscribe(const std::shared_ptr<Subscriber>& s) {
  const std::lock_guard lock(mutex_);
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), s), subscribers_.end());
}

void EventStream::publish(std::string_view name, std::string_view json) {
  std::string message;
  message.reserve(name.size() + json.size() + 16);
  message += "event: ";
  message += name;
  message += "\ndata: ";
  message += json;
  message += "\n\n";
  std::vector<std::function<void()>> wakes;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& s : subscribers_) {
      if (s->cutOff) continue;
      if (s->bytes + message.size() > kMaxQueuedBytes) {
        s->cutOff = true;  // too slow: stop queueing, let its connection end
        s->queue.clear();
        s->bytes = 0;
      } else {
        s->queue.push_back(message);
        s->bytes += message.size();
      }
      if (s->wake) wakes.push_back(s->wake);
    }
  }
  for (auto& w : wakes) w();
}

std::string EventStream::take(Subscriber& s, bool& cutOff) {
  std::string out;
  const std::lock_guard lock(mutex_);
  cutOff = s.cutOff;
  for (auto& m : s.queue) out += m;
  s.queue.clear();
  s.bytes = 0;
  return out;
}

std::size_t EventStream::subscribers() const {
  const std::lock_guard lock(mutex_);
  return subscribers_.size();
}

}  // namespace gatelab::proxy
