module lastgasp.bench/gohttp

go 1.22
