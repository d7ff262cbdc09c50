#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace concierge::metrics {

// Labels are name/value pairs. Values must come from small fixed sets (an endpoint, a result,
// an error code's name), never from outside bytes as they came: every distinct set is a series
// kept for the life of the process.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Registry keeps one process's metrics and renders them in the Prometheus text exposition
// format 0.0.4, which `promtool check metrics` accepts. Thread-safe.
class Registry {
 public:
  // Count adds to a counter; its name ends in _total.
  void Count(std::string_view name, std::string_view help, const Labels& labels = {},
             double by = 1);
  // Observe records one value (seconds) in a histogram; its name ends in _seconds.
  void Observe(std::string_view name, std::string_view help, const Labels& labels, double seconds);
  // Gauge installs what a gauge reads when scraped (several series, by labels), replacing
  // what was installed under that name; RemoveGauge before what it reads goes away.
  using GaugeReader = std::function<std::vector<std::pair<Labels, double>>()>;
  void Gauge(std::string_view name, std::string_view help, GaugeReader read);
  // ReadCounter installs what a counter reads when scraped, for a component that keeps its own
  // counts (a join proxy's); its name ends in _total.
  void ReadCounter(std::string_view name, std::string_view help, GaugeReader read);
  // RemoveGauge removes a gauge or a read counter.
  void RemoveGauge(std::string_view name);

  std::string Render() const;
  // Value is a counter's value, a histogram's count or a set gauge's; 0 when absent. For tests.
  double Value(std::string_view name, const Labels& labels = {}) const;

 private:
  enum class Type { kCounter, kHistogram, kGauge };

  struct Series {
    double value = 0;              // a counter's
    std::vector<uint64_t> counts;  // a histogram's, per bucket (not cumulative)
    double sum = 0;
    uint64_t count = 0;
  };

  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::map<Labels, Series> series;
    GaugeReader read;
  };

  Family& FamilyOf(std::string_view name, std::string_view help, Type type);

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

// Global is the process's registry, which /metrics renders.
Registry& Global();

// Timer observes the seconds from its making to Stop (or its end) in a histogram.
class Timer {
 public:
  Timer(std::string name, std::string help, Labels labels)
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}

  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  ~Timer() { Stop(); }

  // Stop records now; label adds one more label first (a result known only at the end).
  void Stop(const std::pair<std::string, std::string>& label = {});

 private:
  std::string name_;
  std::string help_;
  Labels labels_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool stopped_ = false;
};

}  // namespace concierge::metrics
