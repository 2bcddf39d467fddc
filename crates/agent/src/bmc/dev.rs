//! The kernel's IPMI character device (`ipmi_devintf`): a request goes to
//! the BMC on the system interface with `IPMICTL_SEND_COMMAND`, its answer
//! comes back through `IPMICTL_RECEIVE_MSG_TRUNC` once the fd is readable.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// `struct ipmi_msg` of `<linux/ipmi.h>`.
#[repr(C)]
struct Msg {
    netfn: u8,
    cmd: u8,
    data_len: u16,
    data: *mut u8,
}

/// `struct ipmi_req`.
#[repr(C)]
struct Req {
    addr: *mut u8,
    addr_len: u32,
    msgid: libc::c_long,
    msg: Msg,
}

/// `struct ipmi_recv`.
#[repr(C)]
struct Recv {
    recv_type: libc::c_int,
    addr: *mut u8,
    addr_len: u32,
    msgid: libc::c_long,
    msg: Msg,
}

/// `struct ipmi_system_interface_addr`: the BMC itself.
#[repr(C)]
struct SiAddr {
    addr_type: libc::c_int,
    channel: libc::c_short,
    lun: u8,
}

const SI_ADDR_TYPE: libc::c_int = 0x0c;
const BMC_CHANNEL: libc::c_short = 0x0f;
const RESPONSE: libc::c_int = 1;

/// `_IOC(dir, 'i', nr, size)`.
const fn ioc(dir: u64, nr: u64, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | ((b'i' as u64) << 8) | nr
}
const SEND_COMMAND: u64 = ioc(2, 13, std::mem::size_of::<Req>());
const RECEIVE_TRUNC: u64 = ioc(3, 11, std::mem::size_of::<Recv>());

pub struct Device {
    f: File,
    next_id: libc::c_long,
}

impl Device {
    pub fn open(path: &Path) -> Result<Device> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(Device { f, next_id: 1 })
    }

    fn send(&mut self, netfn: u8, cmd: u8, data: &[u8]) -> Result<libc::c_long> {
        let mut addr = SiAddr {
            addr_type: SI_ADDR_TYPE,
            channel: BMC_CHANNEL,
            lun: 0,
        };
        let mut body = data.to_vec();
        let id = self.next_id;
        self.next_id += 1;
        let mut req = Req {
            addr: (&mut addr as *mut SiAddr).cast(),
            addr_len: std::mem::size_of::<SiAddr>() as u32,
            msgid: id,
            msg: Msg {
                netfn,
                cmd,
                data_len: body.len() as u16,
                data: body.as_mut_ptr(),
            },
        };
        // SAFETY: req and the buffers it points to outlive the call; the
        // kernel copies them in before returning.
        let rc = unsafe { libc::ioctl(self.f.as_raw_fd(), SEND_COMMAND as _, &mut req) };
        if rc < 0 {
            return Err(std::io::Error::last_os_error()).context("IPMICTL_SEND_COMMAND");
        }
        Ok(id)
    }

    /// The next response with `id`, waiting up to 5 s.
    fn receive(&mut self, id: libc::c_long) -> Result<Vec<u8>> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                bail!("the BMC did not answer in 5 s");
            }
            let mut pfd = libc::pollfd {
                fd: self.f.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis() as libc::c_int) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e).context("poll on the IPMI device");
            }
            if n == 0 {
                continue;
            }
            let mut addr = [0u8; 32];
            let mut data = [0u8; 256];
            let mut recv = Recv {
                recv_type: 0,
                addr: addr.as_mut_ptr(),
                addr_len: addr.len() as u32,
                msgid: 0,
                msg: Msg {
                    netfn: 0,
                    cmd: 0,
                    data_len: data.len() as u16,
                    data: data.as_mut_ptr(),
                },
            };
            // SAFETY: recv points at buffers of the sizes it states.
            let rc = unsafe { libc::ioctl(self.f.as_raw_fd(), RECEIVE_TRUNC as _, &mut recv) };
            if rc < 0 {
                let e = std::io::Error::last_os_error();
                // EMSGSIZE: truncated, the data is still there.
                if e.raw_os_error() != Some(libc::EMSGSIZE) {
                    return Err(e).context("IPMICTL_RECEIVE_MSG_TRUNC");
                }
            }
            if recv.recv_type != RESPONSE || recv.msgid != id {
                continue;
            }
            let len = usize::from(recv.msg.data_len).min(data.len());
            return Ok(data[..len].to_vec());
        }
    }
}

impl super::Ipmi for Device {
    fn call(&mut self, netfn: u8, cmd: u8, data: &[u8]) -> Result<Vec<u8>> {
        let id = self.send(netfn, cmd, data)?;
        let r = self.receive(id)?;
        match r.first() {
            None => bail!("netfn {netfn:#04x} cmd {cmd:#04x}: empty answer"),
            Some(0) => Ok(r[1..].to_vec()),
            Some(cc) => bail!("netfn {netfn:#04x} cmd {cmd:#04x}: completion code {cc:#04x}"),
        }
    }
}
