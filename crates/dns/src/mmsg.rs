//! Batched UDP I/O: `recvmmsg` / `sendmmsg`, so a loaded server pays one
//! system call per batch of queries instead of two per query.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// Packets per system call at most.
pub const BATCH: usize = 32;
/// Receive buffer per packet; longer queries arrive truncated and are
/// treated as malformed.
pub const RECV_BUF: usize = 4096;

/// One receive batch's buffers, and the responses to send back.
pub struct Mmsg {
    fd: RawFd,
    bufs: Vec<[u8; RECV_BUF]>,
    names: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    /// Response per received slot (empty = nothing to send).
    pub out: Vec<Vec<u8>>,
    send_iovs: Vec<libc::iovec>,
    send_hdrs: Vec<libc::mmsghdr>,
}

impl Mmsg {
    /// For a socket that stays open as long as this value lives.
    pub fn new(fd: RawFd) -> Mmsg {
        // SAFETY: all-zero is a valid value of these plain C structs.
        let zeroed_hdr: libc::mmsghdr = unsafe { std::mem::zeroed() };
        let zeroed_name: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let iov = libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        };
        Mmsg {
            fd,
            bufs: vec![[0u8; RECV_BUF]; BATCH],
            names: vec![zeroed_name; BATCH],
            iovs: vec![iov; BATCH],
            hdrs: vec![zeroed_hdr; BATCH],
            out: (0..BATCH).map(|_| Vec::with_capacity(1500)).collect(),
            send_iovs: vec![iov; BATCH],
            send_hdrs: vec![zeroed_hdr; BATCH],
        }
    }

    /// Waits for at least one packet (or the socket's receive timeout) and
    /// takes as many as are queued, up to [`BATCH`].
    pub fn recv(&mut self) -> io::Result<usize> {
        for i in 0..BATCH {
            self.iovs[i] = libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: RECV_BUF,
            };
            let h = &mut self.hdrs[i];
            h.msg_len = 0;
            h.msg_hdr.msg_name = (&mut self.names[i] as *mut libc::sockaddr_storage).cast();
            h.msg_hdr.msg_namelen =
                std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = std::ptr::null_mut();
            h.msg_hdr.msg_controllen = 0;
            h.msg_hdr.msg_flags = 0;
        }
        // SAFETY: every header points at live buffers owned by self, sized
        // as declared; the kernel writes at most BATCH entries.
        let n = unsafe {
            libc::recvmmsg(
                self.fd,
                self.hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// Packet `i` of the last batch: its bytes (None if it was truncated),
    /// its sender, and the buffer for its response.
    pub fn slot(&mut self, i: usize) -> (Option<&[u8]>, Option<SocketAddr>, &mut Vec<u8>) {
        let h = &self.hdrs[i];
        let len = (h.msg_len as usize).min(RECV_BUF);
        let data = if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            None
        } else {
            Some(&self.bufs[i][..len])
        };
        (data, sockaddr(&self.names[i]), &mut self.out[i])
    }

    /// Sends every non-empty `out[i]` to packet `i`'s sender (first `n`
    /// slots), then clears them.
    pub fn send(&mut self, n: usize) {
        let mut k = 0;
        for i in 0..n.min(BATCH) {
            if self.out[i].is_empty() {
                continue;
            }
            self.send_iovs[k] = libc::iovec {
                iov_base: self.out[i].as_mut_ptr().cast(),
                iov_len: self.out[i].len(),
            };
            let h = &mut self.send_hdrs[k];
            h.msg_len = 0;
            h.msg_hdr.msg_name = (&mut self.names[i] as *mut libc::sockaddr_storage).cast();
            h.msg_hdr.msg_namelen = self.hdrs[i].msg_hdr.msg_namelen;
            h.msg_hdr.msg_iov = &mut self.send_iovs[k];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = std::ptr::null_mut();
            h.msg_hdr.msg_controllen = 0;
            h.msg_hdr.msg_flags = 0;
            k += 1;
        }
        let mut sent = 0;
        while sent < k {
            // SAFETY: headers sent..k point at live buffers owned by self.
            let r = unsafe {
                libc::sendmmsg(
                    self.fd,
                    self.send_hdrs[sent..].as_mut_ptr(),
                    (k - sent) as libc::c_uint,
                    0,
                )
            };
            if r <= 0 {
                // Skip the packet that failed (e.g. unreachable client).
                sent += 1;
            } else {
                sent += r as usize;
            }
        }
        for o in self.out.iter_mut().take(n) {
            o.clear();
        }
    }
}

fn sockaddr(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let sin =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let sin6 =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}
