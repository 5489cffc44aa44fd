group "default" {
  targets = ["one", "two"]
}

target "one" {
  context = "."
  contexts = {
    src = "./dir"
  }
  network = "none"
  output = ["type=tar,dest=out-one.tar", "type=oci,tar=false,dest=out-one-oci"]
}

target "two" {
  inherits = ["one"]
  args = {
    WHICH = "two"
  }
  output = ["type=tar,dest=out-two.tar", "type=oci,tar=false,dest=out-two-oci"]
}
