// One-write, one-read synchronous RAM (read-old on a same-address write): the shape every
// FPGA flow maps to block RAM. Holds no reset: contents are undefined until written.
`default_nettype none

module tessera_ram #(
    parameter integer WIDTH = 32,
    parameter integer LOG_DEPTH = 10
) (
    input  wire                 clk_i,
    input  wire                 we_i,
    input  wire [LOG_DEPTH-1:0] waddr_i,
    input  wire [WIDTH-1:0]     wdata_i,
    input  wire                 re_i,
    input  wire [LOG_DEPTH-1:0] raddr_i,
    output wire [WIDTH-1:0]     rdata_o
);
  (* no_rw_check *)
  reg [WIDTH-1:0] mem_q [0:(1<<LOG_DEPTH)-1];
  reg [WIDTH-1:0] rdata_q;

  always @(posedge clk_i) begin
    if (we_i) mem_q[waddr_i] <= wdata_i;
    if (re_i) rdata_q <= mem_q[raddr_i];
  end

  assign rdata_o = rdata_q;
endmodule

`default_nettype wire
