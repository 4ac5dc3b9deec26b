#include "sim/trace/reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace gatelab::sim::trace {
namespace {

// ---- raw bytes -----------------------------------------------------------------------------------

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to n bytes into dst; 0 at the end. On an I/O error, returns 0 and sets `error`.
  virtual std::size_t read(char* dst, std::size_t n, std::string& error) = 0;
};

class FileSource final : public ByteSource {
 public:
  FileSource(std::FILE* f, bool owned) : file_(f), owned_(owned) {}
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  ~FileSource() override {
    if (owned_) std::fclose(file_);
  }
  std::size_t read(char* dst, std::size_t n, std::string& error) override {
    const std::size_t got = std::fread(dst, 1, n, file_);
    if (got == 0 && std::ferror(file_)) error = std::string("read error: ") + std::strerror(errno);
    return got;
  }

 private:
  std::FILE* file_;
  bool owned_;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  std::size_t read(char* dst, std::size_t n, std::string&) override {
    const std::size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(dst, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

// ---- decompressed bytes --------------------------------------------------------------------------

// Plain bytes or gzip (detected on the first read by the magic bytes 1f 8b), one or more members.
class Input {
 public:
  Input(std::unique_ptr<ByteSource> raw, std::size_t chunk) : raw_(std::move(raw)), in_(chunk) {}
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;
  ~Input() {
    if (inflating_) inflateEnd(&zs_);
  }

  // Up to n decompressed bytes into dst; 0 at the end or on error (then error() is set).
  std::size_t read(char* dst, std::size_t n) {
    if (!started_) start();
    if (!error_.empty()) return 0;
    if (!compressed_) {
      if (inPos_ < inLen_) {
        const std::size_t k = std::min(n, inLen_ - inPos_);
        std::memcpy(dst, in_.data() + inPos_, k);
        inPos_ += k;
        return k;
      }
      return raw_->read(dst, n, error_);
    }
    return inflateInto(dst, n);
  }

  [[nodiscard]] bool compressed() const noexcept { return compressed_; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return in_.size(); }

 private:
  void start() {
    started_ = true;
    refill();
    if (inLen_ >= 2 && static_cast<unsigned char>(in_[0]) == 0x1f && static_cast<unsigned char>(in_[1]) == 0x8b) {
      compressed_ = true;
      zs_ = z_stream{};
      if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) {
        error_ = "cannot initialise gzip decompression";
        return;
      }
      inflating_ = true;
    }
  }

  void refill() {
    inPos_ = 0;
    inLen_ = raw_->read(in_.data(), in_.size(), error_);
    if (inLen_ == 0) rawEnd_ = true;
  }

  std::size_t inflateInto(char* dst, std::size_t n) {
    zs_.next_out = reinterpret_cast<Bytef*>(dst);
    zs_.avail_out = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    const uInt wanted = zs_.avail_out;
    while (zs_.avail_out == wanted) {
      if (inPos_ >= inLen_ && !rawEnd_) refill();
      if (!error_.empty()) return 0;
      if (inPos_ >= inLen_ && rawEnd_) {
        if (!memberEnded_) error_ = "truncated gzip data (the file ends inside a compressed stream)";
        break;
      }
      if (memberEnded_) {  // another gzip member follows (as `cat a.gz b.gz` makes)
        inflateReset(&zs_);
        memberEnded_ = false;
      }
      zs_.next_in = reinterpret_cast<Bytef*>(in_.data() + inPos_);
      zs_.avail_in = static_cast<uInt>(inLen_ - inPos_);
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      inPos_ = inLen_ - zs_.avail_in;
      if (rc == Z_STREAM_END) {
        memberEnded_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        error_ = std::string("corrupt gzip data: ") + (zs_.msg != nullptr ? zs_.msg : "inflate failed");
        break;
      }
    }
    return wanted - zs_.avail_out;
  }

  std::unique_ptr<ByteSource> raw_;
  std::vector<char> in_;
  std::size_t inPos_ = 0;
  std::size_t inLen_ = 0;
  bool rawEnd_ = false;
  bool started_ = false;
  bool compressed_ = false;
  bool inflating_ = false;
  bool memberEnded_ = false;
  z_stream zs_{};
  std::string error_;
};

// ---- the reader ------------------------------------------------------------------------------------

class LineTraceReader final : public TraceReader {
 public:
  LineTraceReader(std::unique_ptr<ByteSource> raw, std::unique_ptr<LineParser> parser, const ReaderOptions& options)
      : options_(options),
        input_(std::move(raw), options.readChunk),
        parser_(std::move(parser)),
        capacity_(options.maxLineLength + options.readChunk),
        buffer_(std::make_unique<char[]>(capacity_)) {}

  bool next(TraceRecord& out) override {
    if (done_) return false;
    std::string_view line;
    while (nextLine(line)) {
      const LineResult r = parser_->parse(line, out);
      switch (r.status) {
        case LineStatus::kRecord:
          out.line = lineNo_;
          ++stats_.records;
          return true;
        case LineStatus::kSkip: ++stats_.skipped; break;
        case LineStatus::kMalformed: noteMalformed(r.field, r.what); break;
        case LineStatus::kFatal:
          stats_.error = "line " + std::to_string(lineNo_) + ": " + parser_->fatalMessage();
          done_ = true;
          stats_.linesRead = lineNo_;
          return false;
      }
    }
    done_ = true;
    stats_.linesRead = lineNo_;
    stats_.compressed = input_.compressed();
    if (stats_.error.empty()) stats_.error = input_.error();
    return false;
  }

  const ReaderStats& stats() const noexcept override {
    stats_.linesRead = lineNo_;
    stats_.compressed = input_.compressed();
    return stats_;
  }

  std::size_t bufferCapacity() const noexcept override {
    return capacity_ + input_.capacity() + parser_->scratchCapacity();
  }

 private:
  void noteMalformed(std::string_view field, std::string_view what) {
    ++stats_.malformed;
    if (stats_.firstMalformed.size() < options_.keepMalformed) {
      std::string reason(field);
      if (!reason.empty()) reason += ": ";
      reason += what;
      stats_.firstMalformed.push_back({lineNo_, std::move(reason)});
    }
  }

  void noteOverlong() {
    ++lineNo_;
    ++stats_.overlong;
    noteMalformed("line", overlongReason());
  }

  std::string_view overlongReason() {
    if (overlongText_.empty()) overlongText_ = "longer than " + std::to_string(options_.maxLineLength) + " bytes";
    return overlongText_;
  }

  // The next physical line (without "\n" or "\r\n"); false at the end of the input.
  bool nextLine(std::string_view& line) {
    while (true) {
      if (scan_ < end_) {
        const void* hit = std::memchr(buffer_.get() + scan_, '\n', end_ - scan_);
        if (hit != nullptr) {
          const auto nl = static_cast<std::size_t>(static_cast<const char*>(hit) - buffer_.get());
          const std::size_t start = begin_;
          begin_ = scan_ = nl + 1;
          if (discarding_) {  // the rest of an over-long line, already counted
            discarding_ = false;
            continue;
          }
          if (nl - start > options_.maxLineLength) {
            noteOverlong();
            continue;
          }
          ++lineNo_;
          line = std::string_view(buffer_.get() + start, nl - start);
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          return true;
        }
        scan_ = end_;
      }
      if (discarding_) {
        begin_ = scan_ = end_ = 0;
      } else if (end_ - begin_ > options_.maxLineLength) {
        noteOverlong();
        discarding_ = true;
        begin_ = scan_ = end_ = 0;
      }
      if (eof_) {
        if (begin_ < end_) {  // a last line without a newline
          ++lineNo_;
          line = std::string_view(buffer_.get() + begin_, end_ - begin_);
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          begin_ = scan_ = end_;
          return true;
        }
        return false;
      }
      if (begin_ > 0) {
        std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        scan_ -= begin_;
        begin_ = 0;
      }
      const std::size_t got = input_.read(buffer_.get() + end_, capacity_ - end_);
      stats_.bytesRead += got;
      if (got == 0) eof_ = true;
      end_ += got;
    }
  }

  ReaderOptions options_;
  Input input_;
  std::unique_ptr<LineParser> parser_;
  std::size_t capacity_;
  std::unique_ptr<char[]> buffer_;
  std::size_t begin_ = 0;  // start of the current line
  std::size_t scan_ = 0;   // where the newline search resumes
  std::size_t end_ = 0;    // end of valid data
  bool eof_ = false;
  bool discarding_ = false;
  bool done_ = false;
  std::uint64_t lineNo_ = 0;
  std::string overlongText_;
  mutable ReaderStats stats_;
};

ReaderOptions sane(ReaderOptions o) {
  o.maxLineLength = std::clamp<std::size_t>(o.maxLineLength, 16, std::size_t{64} << 20);
  o.readChunk = std::clamp<std::size_t>(o.readChunk, 16, std::size_t{16} << 20);
  return o;
}

Made<TraceReader> open(std::unique_ptr<ByteSource> raw, const TraceFormat& format, const ReaderOptions& options) {
  Made<LineParser> parser = makeLineParser(format);
  if (!parser) return parser.error;
  return std::make_unique<LineTraceReader>(std::move(raw), std::move(parser.ptr), sane(options));
}

}  // namespace

Made<TraceReader> openTraceFile(const std::string& path, const TraceFormat& format, const ReaderOptions& options) {
  std::unique_ptr<ByteSource> raw;
  if (path == "-") {
    raw = std::make_unique<FileSource>(stdin, false);
  } else {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
      return config::UnitError{"cannot open trace \"" + path + "\": " + std::strerror(errno),
                               "a readable file, plain text or gzip (or - for standard input)"};
    }
    raw = std::make_unique<FileSource>(f, true);
  }
  return open(std::move(raw), format, options);
}

Made<TraceReader> openTraceMemory(std::string_view data, const TraceFormat& format, const ReaderOptions& options) {
  return open(std::make_unique<MemorySource>(data), format, options);
}

}  // namespace gatelab::sim::trace
