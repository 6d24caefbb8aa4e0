# The certificate is validated by DNS, but the zone is not managed here: publish the records of
# the certificate_validation_records output in whatever DNS hosts var.domain_name (see README).
resource "aws_acm_certificate" "main" {
  domain_name       = var.domain_name
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

# Creates nothing in AWS: it waits until ACM has issued the certificate, so the HTTPS listener
# is never created with a certificate that is still pending validation.
resource "aws_acm_certificate_validation" "main" {
  certificate_arn = aws_acm_certificate.main.arn
}
