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

  @Test
  void instanceKeysAreQuotedAndReadAsTerraformQuotesThem() {
    // for_each keys and the addresses Terraform 1.11.4 printed for them (show -json's index and address):
    // a template sequence's $ or % doubled, a character that does not print as \\u or \\U
    String[][] cases = {
        {"${a}", "terraform_data.x[\"$${a}\"]"},
        {"%{z}", "terraform_data.x[\"%%{z}\"]"},
        {"\\${b}", "terraform_data.x[\"\\\\$${b}\"]"},
        {"$a%", "terraform_data.x[\"$a%\"]"},
        {"a$", "terraform_data.x[\"a$\"]"},
        {"b\"]c", "terraform_data.x[\"b\\\"]c\"]"},
        {"x.y", "terraform_data.x[\"x.y\"]"},
        {"nb\u00a0sp", "terraform_data.x[\"nb\\u00a0sp\"]"},
        {"soft\u00adh", "terraform_data.x[\"soft\\u00adh\"]"},
        {"tag\udb40\udc01", "terraform_data.x[\"tag\\U000e0001\"]"},
        {"tab\t", "terraform_data.x[\"tab\\t\"]"}};
    for (String[] c : cases) {
      ResourceKey key = Addresses.resource("tf", "managed", "terraform_data", "", "x",
          dev.gitops.api.Documents.nodes().textNode(c[0]), "");
      // the address state rm is given, apply's events are matched by and owned.json records
      assertThat(Addresses.address(key)).as("the address of key %s", c[0]).isEqualTo(c[1]);
      // a previous_address read back is the key the object had before its move
      Address a = Address.parse(c[1]);
      assertThat(a.index().asText()).as("the key of %s", c[1]).isEqualTo(c[0]);
      assertThat(Addresses.resource("tf", a.mode(), a.type(), a.module(), a.name(), a.index(), "")).isEqualTo(key);
    }
    assertThatThrownBy(() -> Address.parse("terraform_data.x[\"]")).isInstanceOf(TerraformException.class)
        .hasMessageContaining("bad instance key");
  }
}
