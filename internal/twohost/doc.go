// Package twohost gives a test two hosts on one machine: two Linux network
// namespaces joined by a link, each with its own loopback interface, its
// own interface eth0 with an address of TEST-NET-1 (192.0.2.1 and
// 192.0.2.2; RFC 5737 reserves 192.0.2.0/24 for documentation, so nothing
// real is ever reached), its own host name (hosta, hostb) and its own
// /etc/hosts. A command runs on a host through `ip netns exec`, in a UTS
// namespace of its own that carries the host name.
//
// The link is a veth pair, or, when Options ask for delay or loss, a pair
// of TUN devices whose packets this process carries from one side to the
// other after the delay, dropping the given fraction (the kernel this was
// written on has no netem qdisc; the shaping is the same for any kernel).
// A host's link can be cut (`ip link set eth0 down`) and restored, its
// processes signalled.
//
// New needs root and iproute2's ip (and util-linux's unshare); without them
// it fails the test saying which is missing, never skips it. Everything it
// makes (namespaces, their /etc/netns files, the TUN devices, the processes
// started on the hosts) is removed by t.Cleanup, also when the test fails;
// names carry the process id and a counter, so concurrent tests and
// concurrent test binaries on one machine do not collide, and New removes
// what a killed test binary left behind.
//
// A Pair is safe for concurrent use.
package twohost
