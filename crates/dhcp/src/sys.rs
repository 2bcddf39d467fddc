//! The few socket calls std does not offer: receiving with IP_PKTINFO (to
//! learn the interface and our address) and sending out of a chosen
//! interface from a chosen source address.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::RawFd;

/// One received datagram's metadata.
#[derive(Debug, Clone, Copy)]
pub struct Recv {
    pub len: usize,
    pub src: SocketAddrV4,
    pub ifindex: u32,
    /// The local address the kernel associates with it (for broadcasts:
    /// the interface's address).
    pub local: Ipv4Addr,
}

pub fn set_pktinfo(fd: RawFd) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: setsockopt with a valid pointer to an int of the right size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            &one as *const _ as *const libc::c_void,
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// SO_RCVBUFFORCE (needs CAP_NET_ADMIN).
pub fn force_rcvbuf(fd: RawFd, bytes: usize) -> io::Result<()> {
    let v: libc::c_int = bytes.min(i32::MAX as usize) as libc::c_int;
    // SAFETY: as in `set_pktinfo`.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            &v as *const _ as *const libc::c_void,
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

const CMSG_SPACE: usize = 64;

/// recvmsg with IP_PKTINFO; `nonblock` adds MSG_DONTWAIT.
pub fn recv(fd: RawFd, buf: &mut [u8], nonblock: bool) -> io::Result<Recv> {
    // SAFETY: all structures are zeroed plain C structs; the pointers given
    // to recvmsg point at live buffers of the lengths stated.
    unsafe {
        let mut addr: libc::sockaddr_in = zeroed();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        let mut cbuf = [0u64; CMSG_SPACE / 8];
        let mut mh: libc::msghdr = zeroed();
        mh.msg_name = &mut addr as *mut _ as *mut libc::c_void;
        mh.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        mh.msg_iov = &mut iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        mh.msg_controllen = CMSG_SPACE as _;
        let flags = if nonblock { libc::MSG_DONTWAIT } else { 0 };
        let n = libc::recvmsg(fd, &mut mh, flags);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut ifindex = 0u32;
        let mut local = Ipv4Addr::UNSPECIFIED;
        let mut c = libc::CMSG_FIRSTHDR(&mh);
        while !c.is_null() {
            if (*c).cmsg_level == libc::IPPROTO_IP && (*c).cmsg_type == libc::IP_PKTINFO {
                let pi = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::in_pktinfo);
                ifindex = pi.ipi_ifindex as u32;
                local = Ipv4Addr::from(u32::from_be(pi.ipi_spec_dst.s_addr));
            }
            c = libc::CMSG_NXTHDR(&mh, c);
        }
        Ok(Recv {
            len: n as usize,
            src: SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(addr.sin_addr.s_addr)),
                u16::from_be(addr.sin_port),
            ),
            ifindex,
            local,
        })
    }
}

/// sendmsg to `dst` out of `ifindex` with source `src` (IP_PKTINFO).
pub fn send(
    fd: RawFd,
    buf: &[u8],
    dst: SocketAddrV4,
    ifindex: u32,
    src: Ipv4Addr,
) -> io::Result<()> {
    // SAFETY: as in `recv`; the control buffer holds exactly one pktinfo.
    unsafe {
        let mut addr: libc::sockaddr_in = zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_port = dst.port().to_be();
        addr.sin_addr.s_addr = u32::from(*dst.ip()).to_be();
        let mut iov = libc::iovec {
            iov_base: buf.as_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        let mut cbuf = [0u64; CMSG_SPACE / 8];
        let mut mh: libc::msghdr = zeroed();
        mh.msg_name = &mut addr as *mut _ as *mut libc::c_void;
        mh.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        mh.msg_iov = &mut iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        mh.msg_controllen = libc::CMSG_SPACE(size_of::<libc::in_pktinfo>() as u32) as _;
        let c = libc::CMSG_FIRSTHDR(&mh);
        (*c).cmsg_level = libc::IPPROTO_IP;
        (*c).cmsg_type = libc::IP_PKTINFO;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<libc::in_pktinfo>() as u32) as _;
        let mut pi: libc::in_pktinfo = zeroed();
        pi.ipi_ifindex = ifindex as libc::c_int;
        pi.ipi_spec_dst.s_addr = u32::from(src).to_be();
        std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut libc::in_pktinfo, pi);
        let n = libc::sendmsg(fd, &mh, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// The interface's name for `index` ("" if unknown).
pub fn ifname(index: u32) -> String {
    let mut buf = [0u8; libc::IF_NAMESIZE];
    // SAFETY: buf is IF_NAMESIZE bytes, as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr() as *mut libc::c_char) };
    if p.is_null() {
        return String::new();
    }
    let n = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..n]).into_owned()
}
