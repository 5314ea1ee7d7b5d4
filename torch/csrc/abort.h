// abort.h: ending a process group's blocked work early. The Go side's
// heartbeat watcher sets an Abort when it finds a peer lost; every wait on a
// collective of the group polls it (and wakes when the collective finishes),
// and the futures DDP's Reducer waits on at the end of a backward pass are
// relays that an Abort fails. Gloo's own threads stay blocked on the lost
// peer until its timeout: the group is then left to the process's exit (see
// group_free). Nothing here is part of the C ABI.
#pragma once

#include <ATen/core/ivalue.h>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace wt {

// Relay is a future that completes with another's result, unless an Abort
// fails it first.
class Relay {
       public:
	explicit Relay(c10::intrusive_ptr<c10::ivalue::Future> out) : out_(std::move(out)) {}

	// Complete settles the relay with in's result (the first settling wins).
	void complete(c10::ivalue::Future &in) {
		if (!settle()) return;
		if (in.hasError())
			out_->setError(in.exception_ptr());
		else
			out_->markCompleted(in.value());
	}

	// Fail settles the relay with an error (the first settling wins).
	void fail(const std::string &why) {
		if (!settle()) return;
		out_->setError(std::make_exception_ptr(std::runtime_error(why)));
	}

	bool settled() {
		std::lock_guard<std::mutex> lock(mu_);
		return settled_;
	}

	const c10::intrusive_ptr<c10::ivalue::Future> &future() const { return out_; }

       private:
	bool settle() {
		std::lock_guard<std::mutex> lock(mu_);
		if (settled_) return false;
		settled_ = true;
		return true;
	}

	std::mutex mu_;
	bool settled_ = false;
	c10::intrusive_ptr<c10::ivalue::Future> out_;
};

// Abort is the flag a watcher sets, with its reason. Make it with
// std::make_shared: waits hand callbacks a shared pointer to it.
class Abort : public std::enable_shared_from_this<Abort> {
       public:
	// Set aborts (once; later calls keep the first reason), fails every
	// pending relay and wakes every waiter.
	void set(const std::string &why) {
		std::vector<std::weak_ptr<Relay>> pending;
		{
			std::lock_guard<std::mutex> lock(mu_);
			if (aborted_) return;
			aborted_ = true;
			why_ = why;
			pending.swap(relays_);
		}
		cv_.notify_all();
		for (auto &w : pending)
			if (auto r = w.lock()) r->fail(message());
	}

	bool aborted() {
		std::lock_guard<std::mutex> lock(mu_);
		return aborted_;
	}

	// Troubled reports whether the abort was set or any wait or relayed
	// collective failed.
	bool troubled() { return failed_ || aborted(); }

	std::string message() {
		std::lock_guard<std::mutex> lock(mu_);
		return "aborted: " + why_;
	}

	// Relay returns a future that completes as in does, or fails when the
	// abort is set (at once if it is set already).
	c10::intrusive_ptr<c10::ivalue::Future> relay(const c10::intrusive_ptr<c10::ivalue::Future> &in) {
		auto r = std::make_shared<Relay>(c10::make_intrusive<c10::ivalue::Future>(in->elementType(), in->devices()));
		bool now = false;
		{
			std::lock_guard<std::mutex> lock(mu_);
			if (aborted_) {
				now = true;
			} else {
				// Drop the relays that settled since the last one.
				std::vector<std::weak_ptr<Relay>> keep;
				for (auto &w : relays_) {
					auto p = w.lock();
					if (p && !p->settled()) keep.push_back(w);
				}
				keep.push_back(r);
				relays_.swap(keep);
			}
		}
		if (now) {
			r->fail(message());
			return r->future();
		}
		auto self = shared_from_this();
		in->addCallback([r, self](c10::ivalue::Future &f) {
			if (f.hasError()) self->failed_ = true;
			r->complete(f);
		});
		return r->future();
	}

	// Wait waits for w until it completes (rethrowing its error), the abort
	// is set (an error with its reason) or timeout passes (an error).
	void wait(const c10::intrusive_ptr<c10d::Work> &w, std::chrono::milliseconds timeout) {
		try {
			wait_(w, timeout);
		} catch (...) {
			failed_ = true;
			throw;
		}
	}

       private:
	void wait_(const c10::intrusive_ptr<c10d::Work> &w, std::chrono::milliseconds timeout) {
		using Clock = std::chrono::steady_clock;
		auto deadline = Clock::now() + timeout;
		c10::intrusive_ptr<c10::ivalue::Future> fut;
		try {
			fut = w->getFuture();
		} catch (const std::exception &) {
			// A backend without futures: poll the work itself.
		}
		if (fut) {
			// Wakes the loop below when the work finishes. The lock
			// orders the notification after the loop's check.
			auto self = shared_from_this();
			fut->addCallback([self](c10::ivalue::Future &) {
				std::lock_guard<std::mutex> lock(self->mu_);
				self->cv_.notify_all();
			});
		}
		// Without a future to wake it, the loop polls every few
		// milliseconds; with one, the slice only bounds a lost wake-up.
		auto slice = fut ? std::chrono::milliseconds(200) : std::chrono::milliseconds(2);
		std::unique_lock<std::mutex> lock(mu_);
		for (;;) {
			if (aborted_) throw std::runtime_error("aborted: " + why_);
			if (fut ? fut->completed() : w->isCompleted()) break;
			auto now = Clock::now();
			if (now >= deadline)
				throw std::runtime_error("timed out after " + std::to_string(timeout.count() / 1000) +
							 " s waiting for the other ranks (the collective timeout)");
			cv_.wait_until(lock, std::min(deadline, now + slice));
		}
		lock.unlock();
		// Finished: rethrows the work's error, if any (it returns at once).
		w->wait(std::chrono::milliseconds(std::max<int64_t>(
		    1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count())));
	}

	std::mutex mu_;
	std::condition_variable cv_;
	bool aborted_ = false;
	std::atomic<bool> failed_{false};
	std::string why_;
	std::vector<std::weak_ptr<Relay>> relays_;
};

}  // namespace wt
