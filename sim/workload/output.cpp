#include "sim/workload/output.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace gatelab::sim::workload {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

// Where the (possibly compressed) bytes end up.
class ByteTarget {
 public:
  virtual ~ByteTarget() = default;
  virtual bool put(const char* data, std::size_t n, std::string& error) = 0;
  virtual bool finish(std::string& error) = 0;
};

class FileTarget final : public ByteTarget {
 public:
  FileTarget(std::FILE* f, std::string name, bool owned) : f_(f), name_(std::move(name)), owned_(owned) {}
  ~FileTarget() override {
    if (owned_ && f_ != nullptr) std::fclose(f_);
  }
  FileTarget(const FileTarget&) = delete;
  FileTarget& operator=(const FileTarget&) = delete;

  bool put(const char* data, std::size_t n, std::string& error) override {
    if (std::fwrite(data, 1, n, f_) != n) {
      error = "cannot write " + name_ + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }

  bool finish(std::string& error) override {
    bool ok = std::fflush(f_) == 0;
    if (owned_) {
      ok = std::fclose(f_) == 0 && ok;
      f_ = nullptr;
    }
    if (!ok) error = "cannot write " + name_ + ": " + std::strerror(errno);
    return ok;
  }

 private:
  std::FILE* f_;
  std::string name_;
  bool owned_;
};

class StringTarget final : public ByteTarget {
 public:
  explicit StringTarget(std::string& s) : s_(s) {}
  bool put(const char* data, std::size_t n, std::string&) override {
    s_.append(data, n);
    return true;
  }
  bool finish(std::string&) override { return true; }

 private:
  std::string& s_;
};

class Sink final : public OutputSink {
 public:
  Sink(std::unique_ptr<ByteTarget> target, bool gzip, int level) : target_(std::move(target)), gzip_(gzip) {
    if (!gzip_) return;
    if (deflateInit2(&zs_, level < 1 ? 1 : (level > 9 ? 9 : level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      error_ = "cannot start gzip compression";
      return;
    }
    zsReady_ = true;
    header_.os = 255;  // "unknown": the same header bytes on every platform (mtime 0, no name)
    if (deflateSetHeader(&zs_, &header_) != Z_OK) error_ = "cannot set the gzip header";
    out_.resize(kChunk);
  }
  ~Sink() override {
    if (zsReady_) deflateEnd(&zs_);
  }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  bool write(std::string_view data) override {
    if (!error_.empty() || closed_) return false;
    if (!gzip_) return target_->put(data.data(), data.size(), error_);
    return deflateSome(data, Z_NO_FLUSH);
  }

  bool close() override {
    if (closed_) return error_.empty();
    closed_ = true;
    if (!error_.empty()) {
      std::string ignored;
      (void)target_->finish(ignored);
      return false;
    }
    if (gzip_ && !deflateSome({}, Z_FINISH)) {
      std::string ignored;
      (void)target_->finish(ignored);
      return false;
    }
    return target_->finish(error_);
  }

  const std::string& error() const noexcept override { return error_; }
  bool compressed() const noexcept override { return gzip_; }

 private:
  bool deflateSome(std::string_view data, int flush) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs_.avail_in = static_cast<uInt>(data.size());
    while (true) {
      zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
      zs_.avail_out = static_cast<uInt>(out_.size());
      const int rc = deflate(&zs_, flush);
      if (rc == Z_STREAM_ERROR) {
        error_ = "gzip compression failed";
        return false;
      }
      const std::size_t produced = out_.size() - zs_.avail_out;
      if (produced != 0 && !target_->put(out_.data(), produced, error_)) return false;
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (zs_.avail_in == 0 && zs_.avail_out != 0)) return true;
    }
  }

  std::unique_ptr<ByteTarget> target_;
  bool gzip_;
  bool zsReady_ = false;
  bool closed_ = false;
  z_stream zs_{};
  gz_header header_{};
  std::vector<char> out_;
  std::string error_;
};

bool endsWithGz(const std::string& path) { return path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0; }

}  // namespace

trace::Made<OutputSink> openOutput(const std::string& path, const OutputOptions& options) {
  const bool toStdout = path.empty() || path == "-";
  const bool gzip = options.compression == Compression::kGzip ||
                    (options.compression == Compression::kAuto && !toStdout && endsWithGz(path));
  std::unique_ptr<ByteTarget> target;
  if (toStdout) {
    target = std::make_unique<FileTarget>(stdout, "standard output", false);
  } else {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) {
      return config::UnitError{"cannot create " + path + ": " + std::strerror(errno), "a writable file path, or - for standard output"};
    }
    target = std::make_unique<FileTarget>(f, path, true);
  }
  auto sink = std::make_unique<Sink>(std::move(target), gzip, options.gzipLevel);
  if (!sink->error().empty()) return config::UnitError{sink->error(), ""};
  return std::unique_ptr<OutputSink>(std::move(sink));
}

std::unique_ptr<OutputSink> memoryOutput(std::string& target, bool gzip, int gzipLevel) {
  return std::make_unique<Sink>(std::make_unique<StringTarget>(target), gzip, gzipLevel);
}

}  // namespace gatelab::sim::workload
