#include "metrics/metrics.h"

#include <array>
#include <charconv>
#include <cmath>

namespace concierge::metrics {
namespace {

// Seconds: from a fast local request to a MASA on the other side of the world.
constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,   0.25,   0.5,   1,    2.5,   10};

std::string Escaped(std::string_view text, bool in_label) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && in_label) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double value) {
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  // The shortest text that reads back as the same double: 0.005, never 0.0050000000000000001.
  char buffer[32];
  auto written = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, written.ptr);
}

std::string LabelText(const Labels& labels, const std::string& extra = "") {
  std::string text;
  for (const auto& [name, value] : labels) {
    text += (text.empty() ? "" : ",") + name + "=\"" + Escaped(value, true) + "\"";
  }
  if (!extra.empty()) {
    text += (text.empty() ? "" : ",") + extra;
  }
  return text.empty() ? "" : "{" + text + "}";
}

}  // namespace

Registry::Family& Registry::FamilyOf(std::string_view name, std::string_view help, Type type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{}).first;
    it->second.type = type;
    it->second.help = std::string(help);
  }
  return it->second;
}

void Registry::Count(std::string_view name, std::string_view help, const Labels& labels,
                     double by) {
  std::lock_guard lock(mutex_);
  FamilyOf(name, help, Type::kCounter).series[labels].value += by;
}

void Registry::Observe(std::string_view name, std::string_view help, const Labels& labels,
                       double seconds) {
  std::lock_guard lock(mutex_);
  Series& series = FamilyOf(name, help, Type::kHistogram).series[labels];
  if (series.counts.empty()) {
    series.counts.assign(kBuckets.size(), 0);
  }
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++series.counts[i];
      break;
    }
  }
  series.sum += seconds;
  ++series.count;
}

void Registry::Gauge(std::string_view name, std::string_view help, GaugeReader read) {
  std::lock_guard lock(mutex_);
  Family& family = FamilyOf(name, help, Type::kGauge);
  family.read = std::move(read);
}

void Registry::ReadCounter(std::string_view name, std::string_view help, GaugeReader read) {
  std::lock_guard lock(mutex_);
  Family& family = FamilyOf(name, help, Type::kCounter);
  family.read = std::move(read);
}

void Registry::RemoveGauge(std::string_view name) {
  std::lock_guard lock(mutex_);
  if (auto it = families_.find(name); it != families_.end()) {
    families_.erase(it);
  }
}

std::string Registry::Render() const {
  // Gauges and read counters are read outside the lock: a reader may take its own locks (a
  // store's), and may count.
  std::vector<std::pair<std::string, GaugeReader>> readers;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, family] : families_) {
      if (family.read) {
        readers.emplace_back(name, family.read);
      }
    }
  }
  std::map<std::string, std::vector<std::pair<Labels, double>>, std::less<>> gauge_values;
  for (const auto& [name, read] : readers) {
    gauge_values[name] = read();
  }
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + Escaped(family.help, false) + "\n";
    switch (family.type) {
      case Type::kCounter:
        out += "# TYPE " + name + " counter\n";
        for (const auto& [labels, series] : family.series) {
          out += name + LabelText(labels) + " " + Number(series.value) + "\n";
        }
        if (auto values = gauge_values.find(name); values != gauge_values.end()) {
          for (const auto& [labels, value] : values->second) {
            out += name + LabelText(labels) + " " + Number(value) + "\n";
          }
        }
        break;
      case Type::kHistogram:
        out += "# TYPE " + name + " histogram\n";
        for (const auto& [labels, series] : family.series) {
          uint64_t cumulative = 0;
          for (size_t i = 0; i < kBuckets.size(); ++i) {
            cumulative += series.counts[i];
            out += name + "_bucket" + LabelText(labels, "le=\"" + Number(kBuckets[i]) + "\"") +
                   " " + std::to_string(cumulative) + "\n";
          }
          out += name + "_bucket" + LabelText(labels, "le=\"+Inf\"") + " " +
                 std::to_string(series.count) + "\n";
          out += name + "_sum" + LabelText(labels) + " " + Number(series.sum) + "\n";
          out += name + "_count" + LabelText(labels) + " " + std::to_string(series.count) + "\n";
        }
        break;
      case Type::kGauge:
        out += "# TYPE " + name + " gauge\n";
        if (auto values = gauge_values.find(name); values != gauge_values.end()) {
          for (const auto& [labels, value] : values->second) {
            out += name + LabelText(labels) + " " + Number(value) + "\n";
          }
        }
        break;
    }
  }
  return out;
}

double Registry::Value(std::string_view name, const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto family = families_.find(name);
  if (family == families_.end()) {
    return 0;
  }
  auto series = family->second.series.find(labels);
  if (series == family->second.series.end()) {
    return 0;
  }
  return family->second.type == Type::kHistogram ? static_cast<double>(series->second.count)
                                                 : series->second.value;
}

Registry& Global() {
  static Registry registry;
  return registry;
}

void Timer::Stop(const std::pair<std::string, std::string>& label) {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (!label.first.empty()) {
    labels_.push_back(label);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  Global().Observe(name_, help_, labels_, seconds);
}

}  // namespace concierge::metrics
