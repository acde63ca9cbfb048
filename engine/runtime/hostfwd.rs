//! The guest TCP ports a board forwards to the host (`QEMU_HOSTFWD`, over
//! user-mode networking with the NIC model `QEMU_NIC`): parsing the option,
//! choosing a free host port on 127.0.0.1 for each at launch, the `-nic`
//! value, the lines `forge run` prints and the `FORGE_HOSTFWD_<port>`
//! variables a `Host` test step sees.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};

/// The NIC model when `QEMU_NIC` is empty.
pub const DEFAULT_NIC: &str = "virtio-net-pci";

/// Each forwarded guest port and the host port on 127.0.0.1 that reaches it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwards {
    /// Guest port → host port.
    pub ports: BTreeMap<u16, u16>,
}

/// The guest ports in a `QEMU_HOSTFWD` value: space-separated TCP ports,
/// each once.
pub fn guest_ports(value: &str) -> Result<Vec<u16>> {
    let bad = |message: String| Error::BadOption {
        option: "QEMU_HOSTFWD".into(),
        message,
        at: None,
    };
    let mut ports = Vec::new();
    for word in value.split_whitespace() {
        let port = word
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| {
                bad(format!(
                    "{word:?} is not a TCP port (1-65535); write guest ports separated by spaces, e.g. \"22 8080\""
                ))
            })?;
        if ports.contains(&port) {
            return Err(bad(format!("guest port {port} is named twice")));
        }
        ports.push(port);
    }
    Ok(ports)
}

impl Forwards {
    /// A free host port for each guest port: the kernel's pick for port 0
    /// on 127.0.0.1, all held until every one is chosen (so they differ),
    /// then released for qemu to take.
    pub fn choose(guest: &[u16]) -> Result<Forwards> {
        let mut held = Vec::new();
        let mut ports = BTreeMap::new();
        for &g in guest {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| {
                Error::Other(format!(
                    "cannot find a free host port for guest port {g} (QEMU_HOSTFWD): {e}"
                ))
            })?;
            let host = listener
                .local_addr()
                .map_err(|e| Error::Other(format!("cannot read a bound port: {e}")))?
                .port();
            ports.insert(g, host);
            held.push(listener);
        }
        drop(held);
        Ok(Forwards { ports })
    }

    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// `-nic`'s value: user-mode networking with the NIC `model` and one
    /// `hostfwd` per port; `None` when nothing is forwarded.
    pub fn nic(&self, model: &str) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let model = if model.trim().is_empty() {
            DEFAULT_NIC
        } else {
            model.trim()
        };
        let mut value = format!("user,model={model}");
        for (g, h) in &self.ports {
            value.push_str(&format!(",hostfwd=tcp:127.0.0.1:{h}-:{g}"));
        }
        Some(value)
    }

    /// One line per forward, as `forge run` prints them.
    pub fn lines(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|(g, h)| format!("forge: guest port {g} is 127.0.0.1:{h}"))
            .collect()
    }

    /// `FORGE_HOSTFWD_<guest port>` = host port, for each forward.
    pub fn env(&self) -> Vec<(String, String)> {
        self.ports
            .iter()
            .map(|(g, h)| (format!("FORGE_HOSTFWD_{g}"), h.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_ports_are_parsed_and_checked() {
        assert_eq!(guest_ports(" 9999  22 ").expect("ports"), [9999, 22]);
        assert!(guest_ports("").expect("none").is_empty());
        for bad in ["22 ssh", "0", "70000", "22 22"] {
            let err = guest_ports(bad).expect_err(bad).to_string();
            assert!(err.starts_with("option QEMU_HOSTFWD: "), "{err}");
        }
    }

    #[test]
    fn chosen_ports_differ_and_are_free_again() {
        let f = Forwards::choose(&[22, 9999]).expect("choose");
        let (a, b) = (f.ports[&22], f.ports[&9999]);
        assert_ne!(a, b);
        TcpListener::bind((Ipv4Addr::LOCALHOST, a)).expect("released");
    }

    #[test]
    fn nic_lines_and_env() {
        let f = Forwards {
            ports: BTreeMap::from([(9999, 40123), (22, 40124)]),
        };
        assert_eq!(
            f.nic("").as_deref(),
            Some(
                "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:40124-:22,hostfwd=tcp:127.0.0.1:40123-:9999"
            )
        );
        assert_eq!(f.lines()[0], "forge: guest port 22 is 127.0.0.1:40124");
        assert_eq!(
            f.env()[1],
            ("FORGE_HOSTFWD_9999".to_string(), "40123".to_string())
        );
        assert_eq!(Forwards::default().nic("e1000"), None);
    }
}
