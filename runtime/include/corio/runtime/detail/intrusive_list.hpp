// corio/runtime/detail/intrusive_list.hpp — the one intrusive doubly linked list of corio.
//
//     struct node { list_hook<node> hook; ... };
//     intrusive_list<node, &node::hook> list;      // guarded by its owner's lock
//     list.push_back(&n);  ...  if (list.contains(&n)) list.remove(&n);
//
// Every waiter queue (semaphore, notify, barrier, cancellation token, signal slot, watch,
// broadcast) and the runtime's owned-task list is one of these: the node embeds a list_hook
// (usually inside an awaiter that is pinned while it waits, so waiting allocates nothing), and
// the list threads its nodes through the hooks. Push, pop and remove are O(1); nothing allocates.
//
// Ownership: the hook belongs to the list while its node is linked, and to the node's owner
//   otherwise. A node must leave its list before it is destroyed (the list does not notice), and
//   a list's owner decides what a list destroyed non-empty means (most assert it is empty).
// Thread safety: none. A list is guarded by its owner's lock, and so are the hooks of the nodes
//   it holds; each owner says which lock next to its list. Whoever reads a hook (contains(),
//   remove()) holds that lock.
// Membership: a node is in at most one list through a given hook. contains() is O(1) without a
//   flag in the hook: a linked node has a predecessor or is the head; an unlinked hook is all
//   null (remove and pop reset it), so contains() answers false for it. It is exact only for the
//   list the node may be in (a node linked in another list through the same hook also has a
//   predecessor): owners whose nodes can be in several lists keep their own flag.
#pragma once

#include <cassert>
#include <cstddef>

namespace corio::detail {

// The links of one node. Both null while the node is in no list.
template <class T>
struct list_hook {
    T* prev = nullptr;
    T* next = nullptr;
};

// Nodes in order from front() to back(); see the header comment for the rules.
template <class T, list_hook<T> T::*Hook>
class intrusive_list {
public:
    intrusive_list() noexcept = default;
    intrusive_list(const intrusive_list&) = delete;
    intrusive_list& operator=(const intrusive_list&) = delete;
    // Moving a list moves its nodes (the hooks point at nodes, never at the list); the source is
    // left empty. Assignment requires an empty destination: nodes are never dropped silently.
    intrusive_list(intrusive_list&& o) noexcept : head_(o.head_), tail_(o.tail_), size_(o.size_) { o.reset(); }
    intrusive_list& operator=(intrusive_list&& o) noexcept {
        assert(empty() && "intrusive_list: move-assigned over linked nodes");
        if (this != &o) {
            head_ = o.head_;
            tail_ = o.tail_;
            size_ = o.size_;
            o.reset();
        }
        return *this;
    }

    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return size_; }
    T* front() const noexcept { return head_; }
    T* back() const noexcept { return tail_; }
    static T* next(const T* n) noexcept { return hook(n).next; }

    // Precondition: n is in no list (through this hook).
    void push_front(T* n) noexcept {
        list_hook<T>& h = hook(n);
        assert(h.prev == nullptr && h.next == nullptr && head_ != n);
        h.next = head_;
        if (head_) hook(head_).prev = n;
        else tail_ = n;
        head_ = n;
        ++size_;
    }

    // Precondition: n is in no list (through this hook).
    void push_back(T* n) noexcept {
        list_hook<T>& h = hook(n);
        assert(h.prev == nullptr && h.next == nullptr && head_ != n);
        h.prev = tail_;
        if (tail_) hook(tail_).next = n;
        else head_ = n;
        tail_ = n;
        ++size_;
    }

    T* pop_front() noexcept {
        T* n = head_;
        if (n) remove(n);
        return n;
    }

    T* pop_back() noexcept {
        T* n = tail_;
        if (n) remove(n);
        return n;
    }

    // Precondition: n is in this list. Resets n's hook, so contains(n) is false afterwards.
    void remove(T* n) noexcept {
        list_hook<T>& h = hook(n);
        assert(contains(n));
        if (h.prev) hook(h.prev).next = h.next;
        else head_ = h.next;
        if (h.next) hook(h.next).prev = h.prev;
        else tail_ = h.prev;
        h.prev = h.next = nullptr;
        --size_;
    }

    // Whether n is in this list, given that it is in this list or in none (see Membership).
    bool contains(const T* n) const noexcept { return hook(n).prev != nullptr || head_ == n; }

private:
    void reset() noexcept {
        head_ = tail_ = nullptr;
        size_ = 0;
    }
    static list_hook<T>& hook(T* n) noexcept { return n->*Hook; }
    static const list_hook<T>& hook(const T* n) noexcept { return n->*Hook; }

    T* head_ = nullptr;
    T* tail_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace corio::detail
