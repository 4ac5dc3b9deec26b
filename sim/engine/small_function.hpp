#pragma once
// SmallFunction<R(Args...), N>: a move-only, type-erased callable that stores callables of up to
// N bytes (alignment <= 8, nothrow-movable) inline, so scheduling an event or a backend call does
// not allocate. Larger callables fall back to one heap allocation; `isInline()` tells which.
//
// Differences from std::function: move-only (captures may be move-only), no target_type, the
// inline capacity is a template parameter, and trivially copyable callables (a lambda capturing
// `this` and a few integers, the common case) are relocated with memcpy and need no destructor.
//
// Thread safety: a value type; not synchronised. Complexity: O(1) everywhere.

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace gatelab::sim {

template <typename Signature, std::size_t Capacity = 40>
class SmallFunction;

template <typename R, typename... Args, std::size_t Capacity>
class SmallFunction<R(Args...), Capacity> {
  static_assert(Capacity >= sizeof(void*), "room for at least the heap fallback's pointer");

 public:
  static constexpr std::size_t kCapacity = Capacity;

  SmallFunction() noexcept = default;
  SmallFunction(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)

  template <typename F, typename D = std::decay_t<F>,
            typename = std::enable_if_t<!std::is_same_v<D, SmallFunction> && std::is_invocable_r_v<R, D&, Args...>>>
  SmallFunction(F&& f) {  // NOLINT(google-explicit-constructor): a callable converts, as std::function
    if constexpr (fitsInline<D>()) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &kInlineOps<D>;
    } else {
      D* p = new D(std::forward<F>(f));
      std::memcpy(storage_, &p, sizeof p);
      ops_ = &kHeapOps<D>;
    }
  }

  SmallFunction(SmallFunction&& other) noexcept { moveFrom(other); }
  SmallFunction& operator=(SmallFunction&& other) noexcept {
    if (this != &other) {
      reset();
      moveFrom(other);
    }
    return *this;
  }
  SmallFunction(const SmallFunction&) = delete;
  SmallFunction& operator=(const SmallFunction&) = delete;
  ~SmallFunction() { reset(); }

  /// Destroys the callable (releasing what it captured); the object becomes empty.
  void reset() noexcept {
    if (ops_ != nullptr && ops_->destroy != nullptr) ops_->destroy(storage_);
    ops_ = nullptr;
  }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  /// True when the callable lives in the inline buffer (no heap allocation was made).
  [[nodiscard]] bool isInline() const noexcept { return ops_ != nullptr && ops_->inlineStored; }

  /// Precondition: not empty.
  R operator()(Args... args) { return ops_->invoke(storage_, std::forward<Args>(args)...); }

  /// Whether a callable of type F would be stored without a heap allocation.
  template <typename F>
  static constexpr bool fitsInline() noexcept {
    return sizeof(F) <= Capacity && alignof(F) <= kAlign && std::is_nothrow_move_constructible_v<F>;
  }

 private:
  static constexpr std::size_t kAlign = 8;

  struct Ops {
    R (*invoke)(void* self, Args&&... args);
    void (*relocate)(void* dst, void* src) noexcept;  // nullptr: memcpy the buffer
    void (*destroy)(void* self) noexcept;             // nullptr: nothing to destroy
    bool inlineStored;
  };

  template <typename D>
  static constexpr bool kTrivial = std::is_trivially_copyable_v<D> && std::is_trivially_destructible_v<D>;

  template <typename D>
  static constexpr Ops kInlineOps{
      [](void* self, Args&&... args) -> R {
        return (*std::launder(static_cast<D*>(self)))(std::forward<Args>(args)...);
      },
      kTrivial<D> ? nullptr
                  : +[](void* dst, void* src) noexcept {
                      D* s = std::launder(static_cast<D*>(src));
                      ::new (dst) D(std::move(*s));
                      s->~D();
                    },
      kTrivial<D> ? nullptr : +[](void* self) noexcept { std::launder(static_cast<D*>(self))->~D(); },
      true};

  template <typename D>
  static D* heapPointer(void* self) noexcept {
    D* p = nullptr;
    std::memcpy(&p, self, sizeof p);
    return p;
  }

  template <typename D>
  static constexpr Ops kHeapOps{
      [](void* self, Args&&... args) -> R { return (*heapPointer<D>(self))(std::forward<Args>(args)...); },
      nullptr,  // the pointer itself is trivially relocatable
      +[](void* self) noexcept { delete heapPointer<D>(self); }, false};

  void moveFrom(SmallFunction& other) noexcept {
    ops_ = other.ops_;
    if (ops_ == nullptr) return;
    if (ops_->relocate != nullptr)
      ops_->relocate(storage_, other.storage_);
    else
      std::memcpy(storage_, other.storage_, Capacity);
    other.ops_ = nullptr;
  }

  alignas(kAlign) unsigned char storage_[Capacity];
  const Ops* ops_ = nullptr;
};

}  // namespace gatelab::sim
