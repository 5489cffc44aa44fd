target "base" {
  dockerfile = "Dockerfile.base"
  network = "none"
}

target "main" {
  context = "."
  contexts = {
    base = "target:base"
    src = "./dir"
  }
  network = "none"
  output = ["type=tar,dest=out-main.tar", "type=oci,tar=false,dest=out-main-oci"]
}
