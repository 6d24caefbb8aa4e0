"""`audit scan`: the rule pack on Terraform code, root module by root module, with a result cache."""
