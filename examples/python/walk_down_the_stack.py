# %% [markdown]
# # Walking down the stack with netobs
#
# A connection between two network namespaces "does not communicate well":
# where do its packets go? This walk builds its own small world (two
# namespaces joined by a veth pair, an MTU mismatch on one side), sends
# traffic, and looks at it the way an engineer would, top down, with netobs
# instead of `ip -s link` and `ethtool -S`. Run it as root: as a script
# (`python walk_down_the_stack.py`) or as the notebook of the same cells
# (`walk_down_the_stack.ipynb`).
#
# The counters say *that* packets were dropped; at the end, a packet
# capture and the kernel's own drop points and reasons say *which* and *why*.

# %%
import atexit
import os
import subprocess
import sys
import time

import pandas as pd

import netobs

# Namespace names carry this process's id, so a run that was killed is
# recognised and cleaned up by the next one.
NS_A = f"nbt-py-{os.getpid()}-901"
NS_B = f"nbt-py-{os.getpid()}-902"


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


# Whatever cell fails, the world goes away with the process (or the
# notebook's kernel): the children this walk starts, then its namespaces.
children = []


def clean_up():
    for p in children:
        if p.poll() is None:
            p.kill()
            p.wait()
    for ns in (NS_A, NS_B):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


atexit.register(clean_up)
for ns in (NS_A, NS_B):
    sh("ip", "netns", "add", ns)
    sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
sh("ip", "-n", NS_A, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", NS_B)
sh("ip", "-n", NS_A, "addr", "add", "10.98.0.1/24", "dev", "va")
sh("ip", "-n", NS_B, "addr", "add", "10.98.0.2/24", "dev", "vb")
# The fault: the far side accepts only 1000-byte frames.
sh("ip", "-n", NS_B, "link", "set", "vb", "mtu", "1000")
for ns, dev in ((NS_A, "va"), (NS_B, "vb"), (NS_A, "lo"), (NS_B, "lo")):
    sh("ip", "-n", ns, "link", "set", dev, "up")
print(f"world ready: {NS_A} (va, 10.98.0.1) <-> {NS_B} (vb, 10.98.0.2)")

# %% [markdown]
# ## Sockets: is the connection there, and are its queues full?
#
# A server in the far namespace accepts one connection and never reads it;
# a client sends 30000 bytes. `netobs.sockets()` is `ss -tanpi` as a table:
# the unread bytes wait in the server's receive queue (`rqueue`), and the
# owning process and `tcp_info` are columns too.

# %%
SERVER = """
import socket, sys
l = socket.create_server(("10.98.0.2", 8080))
print("listening", flush=True)
c, _ = l.accept()
print("accepted", flush=True)
sys.stdin.read()
"""
CLIENT = """
import socket, sys
s = socket.create_connection(("10.98.0.2", 8080))
s.sendall(b"x" * 30000)
print("sent", flush=True)
sys.stdin.read()
"""
server = subprocess.Popen(["ip", "netns", "exec", NS_B, sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
children.append(server)
assert server.stdout.readline().strip() == "listening"  # before the client connects
client = subprocess.Popen(["ip", "netns", "exec", NS_A, sys.executable, "-c", CLIENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
children.append(client)
assert client.stdout.readline().strip() == "sent" and server.stdout.readline().strip() == "accepted"
time.sleep(0.3)
socks = netobs.sockets(info=True, processes=True, netns=NS_B).to_pandas()
socks[["state", "src", "sport", "dst", "dport", "rqueue", "wqueue", "process", "tcpi_rtt", "tcpi_snd_mss", "tcpi_rcv_mss"]]

# %%
estab = socks[socks.state == "ESTAB"].iloc[0]
print(f"server side: {estab.rqueue} bytes received and not read by {estab.process} (pid {estab.pid})")
# The MSS follows the smaller MTU: TCP works where big pings do not.
print(f"receive MSS {estab.tcpi_rcv_mss} on a link of MTU 1000")
assert estab.rqueue == 30000

# %% [markdown]
# ## Interfaces: are the links up, and what do their counters say?
#
# `netobs.links()` is `ip -s -s link` as a table: every attribute and every
# counter of `rtnl_link_stats64`, one column each.

# %%
links = netobs.links(netns=NS_A)
df = links.to_pandas()
df[["index", "name", "kind", "operstate", "mtu", "rx_packets", "tx_packets", "rx_dropped", "tx_dropped"]]

# %% [markdown]
# ## Traffic: small packets pass, big ones do not
#
# Counter snapshots subtract into per-second rates. Small pings pass; pings
# larger than the far side's MTU are dropped: veth refuses a frame longer
# than its peer's MTU and counts the drop on both ends (`tx_dropped` of
# `va`, `rx_dropped` of `vb`).

# %%
before_a = netobs.link_counters(netns=NS_A)
before_b = netobs.link_counters(netns=NS_B)
small = subprocess.run(["ip", "netns", "exec", NS_A, "ping", "-c", "20", "-i", "0.01", "-w", "10", "-s", "100", "10.98.0.2"], capture_output=True)
big = subprocess.run(["ip", "netns", "exec", NS_A, "ping", "-c", "20", "-i", "0.01", "-W", "1", "-s", "1400", "10.98.0.2"], capture_output=True)
print("small pings:", "ok" if small.returncode == 0 else "lost", "| big pings:", "ok" if big.returncode == 0 else "lost")
rates_a = (netobs.link_counters(netns=NS_A) - before_a).to_pandas().set_index("name")
rates_b = (netobs.link_counters(netns=NS_B) - before_b).to_pandas().set_index("name")
rates_a.loc[["va"], ["tx_packets", "tx_avg_size", "rx_packets", "rx_avg_size", "tx_dropped"]]

# %%
va, vb = netobs.link("va", netns=NS_A), netobs.link("vb", netns=NS_B)
print(f"va: mtu {va.mtu}, tx_packets {va.tx_packets}, tx_dropped {va.tx_dropped}")
print(f"vb: mtu {vb.mtu}, rx_packets {vb.rx_packets}, rx_dropped {vb.rx_dropped}")
assert small.returncode == 0 and big.returncode != 0
assert va.tx_dropped >= 20 and vb.rx_dropped == va.tx_dropped, "veth counts each oversize frame on both ends"

# %% [markdown]
# ## Driver: what does the driver itself count?
#
# `ethtool_stats()` is `ethtool -S`; `ethtool()` gathers `ethtool -i -g -l
# -a -k`, with None for what the driver does not implement (veth has no
# rings). Asked alone, the missing part raises `NotSupportedError`
# (EOPNOTSUPP): lo has no driver information at all, and no statistics
# (an empty dict).

# %%
vb_info = netobs.ethtool("vb", netns=NS_B)
print(vb_info.driver)
print(vb_info.channels)
print("offloads on:", ", ".join(f.name for f in vb_info.features if f.active))
stats = netobs.ethtool_stats("vb", netns=NS_B)
{k: v for k, v in stats.items() if v}

# %%
try:
    netobs.ethtool_driver("lo", netns=NS_B)
except netobs.NotSupportedError as e:
    print(f"lo: {e.strerror} (errno {e.errno})")
print("lo driver statistics:", netobs.ethtool_stats("lo", netns=NS_B))

# %% [markdown]
# ## Drops: where in the kernel, and why?
#
# `netobs.DropMonitor` is dropwatch on the `skb:kfree_skb` tracepoint: every
# freed-as-dropped packet with the kernel function that freed it
# (`sym+0xoff/0xsize`) and the kernel's drop reason. The tracepoint sees
# every namespace, the machine's own background drops too; with
# `devices=True` each drop names the device its packet was last seen on,
# so the drops of this walk's world are the ones on `va` and `vb`.
# `netobs.Capture` on `vb` shows the same pings from the far side: only the
# small ones ever arrive.

# %%
before_vb = netobs.link("vb", netns=NS_B)
events = []
with netobs.DropMonitor(protocol=0x0800, devices=True) as drops, netobs.Capture("vb", filter="icmp", netns=NS_B) as cap:
    subprocess.run(["ip", "netns", "exec", NS_A, "ping", "-c", "10", "-i", "0.01", "-W", "1", "-s", "1400", "10.98.0.2"], capture_output=True)
    subprocess.run(["ip", "netns", "exec", NS_A, "ping", "-c", "10", "-i", "0.01", "-w", "10", "-s", "100", "10.98.0.2"], capture_output=True)
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:  # events() returns as soon as some drops were read
        events.append(drops.events(timeout=0.1).to_pandas())
    packets = []
    while batch := cap.read(timeout=0.5):  # each read returns what one ring block held
        packets += batch
vb_dropped = netobs.link("vb", netns=NS_B).rx_dropped - before_vb.rx_dropped
events = pd.concat(events, ignore_index=True)
ours = events[events.device.isin(["va", "vb"])].assign(function=lambda d: d.symbol.str.split("+").str[0])
print(f"{len(events)} IPv4 drops on the machine, {len(ours)} of them on va or vb")
dropped = ours.groupby(["function", "reason", "device"]).size().rename("count").reset_index()
dropped

# %%
forward = dropped[dropped.function.str.startswith("__dev_forward_skb")]["count"].sum()
print(f"freed in __dev_forward_skb: {forward}; vb rx_dropped grew by {vb_dropped}")
assert forward >= vb_dropped > 0, "each oversize frame is freed where veth forwards it to its peer"

# %%
# This world's drops by kernel function and reason, as a chart (matplotlib
# is needed for the plot only; the netobs package itself does not use it).
# Without a display (a script run), matplotlib draws off screen.
by_place = dropped.groupby(["function", "reason"])["count"].sum().sort_values()
ax = by_place.plot.barh(title="drops on va and vb, by kernel function and reason")
_ = ax.set_xlabel("drops")

# %%
sizes = sorted({p.length for p in packets})
print(f"{len(packets)} ICMP frames captured on vb, lengths {sizes}")
print(packets[0].summary())
assert len(packets) == 20, "the 10 small requests and their 10 replies"
assert sizes == [142], "no frame longer than vb's MTU arrived"

# %%
# The captured frames as a table, decoded to the transport layer.
netobs.packet_table(packets).to_pandas()[["time", "direction", "src", "dst", "protocol", "icmp_type", "length", "summary"]]

# %% [markdown]
# ## All at once: `netobs.diagnose()`
#
# The walk above, in one call: it reads the socket, protocol, softnet,
# qdisc, interface and driver counters of both namespaces at the start and
# the end of a window, streams the kernel's drops during it (joined to the
# devices they happened on, so drops elsewhere on the machine are left
# out), and says which layer loses packets, with the evidence and the next
# thing to look at. In a notebook the report draws the stack with the
# losing layer marked.

# %%
pinger = subprocess.Popen(["ip", "netns", "exec", NS_A, "ping", "-c", "30", "-i", "0.05", "-W", "1", "-s", "1400", "10.98.0.2"], stdout=subprocess.DEVNULL)
children.append(pinger)
report = netobs.diagnose([NS_A, NS_B], seconds=2)
pinger.wait()
print(report.verdict.layer, "-", report.verdict.summary)
assert report.verdict.layer == "interface", report.verdict
report.layers.to_pandas()[["layer", "lost", "top"]]

# %%
report

# %% [markdown]
# ## Clean up

# %%
for p in (client, server):
    p.stdin.close()
    p.wait()
clean_up()
