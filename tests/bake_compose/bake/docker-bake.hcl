target "default" {
  context = "."
  contexts = {
    src = "./dir"
  }
  network = "none"
  output = ["type=tar,dest=out-default.tar", "type=oci,tar=false,dest=out-default-oci"]
}
