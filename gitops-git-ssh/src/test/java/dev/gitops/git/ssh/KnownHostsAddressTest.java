package dev.gitops.git.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KnownHostsAddressTest {

  @Test
  void ipv6AddressesAreWrittenAsOpenSshWritesThem() {
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("[0:0:0:0:0:0:0:1]:2222")).isEqualTo("[::1]:2222");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("0:0:0:0:0:0:0:1")).isEqualTo("::1");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("[fd00:0:0:0:0:0:0:2]:22")).isEqualTo("fd00::2");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("[2001:db8:0:1:0:0:0:1]:2200")).isEqualTo("[2001:db8:0:1::1]:2200");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("2001:db8:0:1:1:1:1:1")).as("one zero group stays 0")
        .isEqualTo("2001:db8:0:1:1:1:1:1");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("[FE80:0:0:0:0:0:0:1]:22")).isEqualTo("fe80::1");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("[127.0.0.1]:2222")).isEqualTo("[127.0.0.1]:2222");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("git.example.com")).isEqualTo("git.example.com");
  }
}
