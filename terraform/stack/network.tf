resource "aws_vpc" "main" {
  cidr_block           = "10.20.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "digitallync-core"
  }
}

# Public subnets hold the load balancer and the NAT gateways, one per availability zone.
resource "aws_subnet" "public" {
  for_each = {
    a = "10.20.0.0/24"
    b = "10.20.1.0/24"
  }

  vpc_id                  = aws_vpc.main.id
  cidr_block              = each.value
  availability_zone       = "${var.region}${each.key}"
  map_public_ip_on_launch = true

  tags = {
    Name = "digitallync-core-public-${each.key}"
    Tier = "public"
  }
}

# Private subnets hold the Fargate tasks; they reach AWS APIs through the NAT gateway of their zone.
resource "aws_subnet" "private" {
  for_each = {
    a = "10.20.10.0/24"
    b = "10.20.11.0/24"
  }

  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = "${var.region}${each.key}"

  tags = {
    Name = "digitallync-core-private-${each.key}"
    Tier = "private"
  }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id

  tags = {
    Name = "digitallync-core"
  }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }

  tags = {
    Name = "digitallync-core-public"
  }
}

resource "aws_route_table_association" "public" {
  for_each = aws_subnet.public

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}

# Tasks without public IPs need a way out to pull images from ECR and ship logs to CloudWatch.
# One NAT gateway per zone keeps a zone outage from cutting off the other zone's tasks.
resource "aws_eip" "nat" {
  for_each = aws_subnet.public

  domain = "vpc"

  tags = {
    Name = "digitallync-core-nat-${each.key}"
  }

  depends_on = [aws_internet_gateway.main]
}

resource "aws_nat_gateway" "main" {
  for_each = aws_subnet.public

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = each.value.id

  tags = {
    Name = "digitallync-core-${each.key}"
  }
}

resource "aws_route_table" "private" {
  for_each = aws_nat_gateway.main

  vpc_id = aws_vpc.main.id

  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = each.value.id
  }

  tags = {
    Name = "digitallync-core-private-${each.key}"
  }
}

resource "aws_route_table_association" "private" {
  for_each = aws_subnet.private

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}
