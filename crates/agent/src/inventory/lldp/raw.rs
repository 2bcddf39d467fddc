//! An `AF_PACKET` socket that receives LLDP frames on the machine's NICs
//! (joined to the nearest-bridge group so the NIC's filter lets them in).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

pub struct Socket {
    fd: OwnedFd,
}

impl Socket {
    pub fn open(ifaces: &[(String, i32)]) -> Result<Socket, String> {
        let proto = (super::ETHERTYPE).to_be() as libc::c_int;
        // SAFETY: plain socket(2); the fd is owned below.
        let fd =
            unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, proto) };
        if fd < 0 {
            return Err(format!(
                "AF_PACKET socket: {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: fd is a new, valid descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        for (name, index) in ifaces {
            // SAFETY: an all-zero packet_mreq is a valid value.
            let mut mr: libc::packet_mreq = unsafe { std::mem::zeroed() };
            mr.mr_ifindex = *index;
            mr.mr_type = libc::PACKET_MR_MULTICAST as u16;
            mr.mr_alen = 6;
            mr.mr_address[..6].copy_from_slice(&super::GROUP);
            // SAFETY: mr is a valid packet_mreq of the size given.
            let rc = unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_PACKET,
                    libc::PACKET_ADD_MEMBERSHIP,
                    (&mr as *const libc::packet_mreq).cast(),
                    std::mem::size_of::<libc::packet_mreq>() as libc::socklen_t,
                )
            };
            if rc != 0 {
                return Err(format!(
                    "joining the LLDP group on {name}: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
        Ok(Socket { fd })
    }

    /// One frame and the index of the interface it came in on, waiting at
    /// most `wait`.
    pub fn recv(&self, buf: &mut [u8], wait: Duration) -> Option<(usize, i32)> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = wait.as_millis().clamp(1, 60_000) as libc::c_int;
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, ms) } <= 0 {
            return None;
        }
        // SAFETY: zeroed sockaddr_ll is a valid value.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut flen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: buf and from are valid for the lengths given.
        let n = unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
                (&mut from as *mut libc::sockaddr_ll).cast(),
                &mut flen,
            )
        };
        (n > 0).then_some((n as usize, from.sll_ifindex))
    }
}

/// The interface index of `name` (0 when there is none).
pub fn ifindex(name: &str) -> i32 {
    let Ok(c) = std::ffi::CString::new(name) else {
        return 0;
    };
    // SAFETY: c is a valid C string.
    unsafe { libc::if_nametoindex(c.as_ptr()) as i32 }
}
