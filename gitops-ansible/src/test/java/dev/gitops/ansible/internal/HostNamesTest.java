package dev.gitops.ansible.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** One machine's address, however its text is written; and what is not an IPv6 address left as it is. */
class HostNamesTest {

  @Test
  void anIpv6AddressComparesInItsCanonicalText() {
    assertThat(HostNames.address("2001:0DB8:0:0::5")).isEqualTo("2001:db8::5");
    assertThat(HostNames.address("[2001:db8:0:0:0:0:0:5]")).isEqualTo("2001:db8::5");
    assertThat(HostNames.address("2001:db8:0:0:1:0:0:5")).isEqualTo("2001:db8::1:0:0:5");
    assertThat(HostNames.address("0:0:0:0:0:0:0:1")).isEqualTo("::1");
    assertThat(HostNames.address("[::1]")).isEqualTo("::1");
    assertThat(HostNames.address("::")).isEqualTo("::");
    assertThat(HostNames.address("1:0:0:0:0:0:0:0")).isEqualTo("1::");
    assertThat(HostNames.address("::ffff:10.0.0.5")).isEqualTo(HostNames.address("0:0:0:0:0:ffff:a00:5"));
    assertThat(HostNames.address("fe80::0001%ETH0")).isEqualTo("fe80::1%eth0");
    assertThat(HostNames.isIpv6("[2001:db8::5]")).isTrue();
    assertThat(HostNames.isIpv6("fe80::1%eth0")).isTrue();
    // a lone zero group is not "::"
    assertThat(HostNames.address("2001:db8:0:1:1:1:1:1")).isEqualTo("2001:db8:0:1:1:1:1:1");
  }

  @Test
  void whatIsNoIpv6AddressIsOnlyLowerCased() {
    assertThat(HostNames.address("Web01.Example.com")).isEqualTo("web01.example.com");
    assertThat(HostNames.address("10.0.0.5")).isEqualTo("10.0.0.5");
    for (String text : new String[] {"1:2:3", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::1", "::1.2.3.256", "1.2.3.4::",
        "cafe:babe", "[::1"}) {
      assertThat(HostNames.address(text)).as(text).isEqualTo(text.toLowerCase(java.util.Locale.ROOT));
      assertThat(HostNames.isIpv6(text)).as(text).isFalse();
    }
  }
}
