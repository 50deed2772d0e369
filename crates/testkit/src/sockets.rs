//! Who listens on a TCP port, from Linux's `/proc`: the listening sockets of a port (their
//! inodes and accept queues, `/proc/net/tcp` and `tcp6`) and whether a process holds one
//! (`/proc/<pid>/fd`). So that a test knows the process that answered on a port is the one
//! it started, and when a server has accepted the connections made to it.

use std::collections::HashSet;

/// A socket listening on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listening {
    /// The socket's inode: `/proc/<pid>/fd/*` of its holders link to `socket:[inode]`.
    pub inode: u64,
    /// Connections the kernel completed that the server has not accepted yet.
    pub accept_queue: u32,
}

/// The sockets listening on TCP `port` (any address, IPv4 or IPv6) right now.
pub fn listening(port: u16) -> Vec<Listening> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| parse_listening(&text, port))
        .collect()
}

/// The listening sockets of `port` in the text of `/proc/net/tcp` or `tcp6`. A line reads
/// `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout
/// inode …`, addresses as `HEXADDR:HEXPORT`; `st` 0A is LISTEN, whose `rx_queue` is the
/// accept queue's length.
fn parse_listening(text: &str, port: u16) -> Vec<Listening> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit(':').next()?;
            if u16::from_str_radix(local_port, 16).ok()? != port || *fields.get(3)? != "0A" {
                return None;
            }
            let accept_queue = u32::from_str_radix(fields.get(4)?.split(':').nth(1)?, 16).ok()?;
            let inode = fields.get(9)?.parse().ok()?;
            Some(Listening {
                inode,
                accept_queue,
            })
        })
        .collect()
}

/// The socket inodes process `pid` holds open (empty once it is gone).
pub fn socket_inodes(pid: u32) -> HashSet<u64> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return HashSet::new();
    };
    fds.filter_map(|fd| {
        let target = std::fs::read_link(fd.ok()?.path()).ok()?;
        let target = target.to_str()?;
        target
            .strip_prefix("socket:[")?
            .strip_suffix(']')?
            .parse()
            .ok()
    })
    .collect()
}

/// Who listens on `port`, as far as process `pid` is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Nobody listens on it.
    Nobody,
    /// Every socket listening on it is held by `pid`.
    Only,
    /// Some socket listening on it is held by another process.
    Another,
}

/// Whether `port`'s listening sockets are all `pid`'s.
pub fn owner(port: u16, pid: u32) -> Owner {
    let listeners = listening(port);
    if listeners.is_empty() {
        return Owner::Nobody;
    }
    let held = socket_inodes(pid);
    if listeners.iter().all(|l| held.contains(&l.inode)) {
        Owner::Only
    } else {
        Owner::Another
    }
}

/// Panics unless the process `pid` (`None`: it exited) holds every socket listening on
/// `port`: for a test that just saw `what` answer there, proof that the answer came from the
/// process it started and not from another one that took the port first.
pub fn assert_owned(what: &str, port: u16, pid: Option<u32>) {
    let pid = pid.unwrap_or_else(|| panic!("{what} exited; something else answered on {port}"));
    match owner(port, pid) {
        Owner::Only => {}
        Owner::Nobody => panic!("{what} (pid {pid}) does not listen on {port}"),
        Owner::Another => {
            panic!("port {port} was taken by another process before {what} (pid {pid})")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_of_this_process_is_found_with_its_accept_queue() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let found = listening(port);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].accept_queue, 0);
        assert_eq!(owner(port, std::process::id()), Owner::Only);
        // Two connections the process never accepts wait in the queue.
        let _a = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let _b = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        assert_eq!(listening(port)[0].accept_queue, 2);
        drop(listener);
        assert_eq!(owner(port, std::process::id()), Owner::Nobody);
    }

    #[test]
    fn another_process_s_listener_is_not_ours() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // pid 1 holds none of this process's sockets.
        assert_eq!(owner(port, 1), Owner::Another);
    }

    #[test]
    fn lines_of_proc_net_tcp_are_read() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n\
           1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 20 4 30 10 -1\n\
           2: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4244 1 0000000000000000 100 0 0 10 0\n";
        assert_eq!(
            parse_listening(text, 8080),
            [Listening {
                inode: 4242,
                accept_queue: 3
            }]
        );
    }
}
