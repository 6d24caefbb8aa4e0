# Rules are separate aws_vpc_security_group_*_rule resources (one rule each, no inline blocks),
# so every rule has its own address, shows up on its own in a plan and can be audited on its own.

resource "aws_security_group" "alb" {
  name        = "digitallync-core-alb"
  description = "digitallync-core load balancer: HTTPS and HTTP from the internet"
  vpc_id      = aws_vpc.main.id

  tags = {
    Name = "digitallync-core-alb"
  }
}

resource "aws_security_group" "service" {
  name        = "digitallync-core-service"
  description = "digitallync-core tasks: traffic from the load balancer only"
  vpc_id      = aws_vpc.main.id

  tags = {
    Name = "digitallync-core-service"
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from the internet"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# Port 80 stays open only so that the listener can redirect plain HTTP to HTTPS.
resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTP from the internet, redirected to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "alb_to_service" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Requests and health checks to the tasks"
  ip_protocol                  = "tcp"
  from_port                    = 3000
  to_port                      = 3000
  referenced_security_group_id = aws_security_group.service.id
}

resource "aws_vpc_security_group_ingress_rule" "service_from_alb" {
  security_group_id            = aws_security_group.service.id
  description                  = "Application port from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = 3000
  to_port                      = 3000
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "service_https_out" {
  security_group_id = aws_security_group.service.id
  description       = "HTTPS out (ECR, CloudWatch Logs, other AWS APIs) through the NAT gateways"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
