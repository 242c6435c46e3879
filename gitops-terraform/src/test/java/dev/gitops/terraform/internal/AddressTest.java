package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.ResourceKey;
import dev.gitops.terraform.TerraformException;
import org.junit.jupiter.api.Test;

/** Terraform addresses and resource keys, both ways. */
class AddressTest {

  @Test
  void addressesParseIntoKeysAndBack() {
    for (String address : new String[] {"aws_instance.web", "aws_instance.web[0]", "data.aws_ami.ubuntu",
        "module.net.aws_subnet.a[\"eu-west-1a\"]", "module.a[\"x.y\"].module.b[2].null_resource.n[\"k\\\"q\"]"}) {
      Address a = Address.parse(address);
      ResourceKey k = Addresses.resource("tf", a.mode(), a.type(), a.module(), a.name(), a.index(), "");
      assertThat(Addresses.address(k)).isEqualTo(address);
      assertThat(ResourceKey.parse(k.toString())).isEqualTo(k);
    }
    Address data = Address.parse("module.m.data.http.x");
    assertThat(data.mode()).isEqualTo("data");
    assertThat(data.module()).isEqualTo("module.m");
    assertThat(Addresses.address(Addresses.output("tf", "url"))).isEqualTo("output.url");
    assertThatThrownBy(() -> Address.parse("web")).isInstanceOf(TerraformException.class).hasMessageContaining("'web'");
  }
}
