// DMA read engine of one unit: turns a request (bus-aligned byte address, beats) into AXI4
// INCR read bursts of at most MAX_BURST beats that never cross a 4 KiB boundary, issued to the
// read arbiter, and passes the returned beats on in order. At most 8 bursts are outstanding,
// and a burst is issued only when in-flight beats plus its length fit credit_i (a consumer
// with a bounded buffer gives its free space, so it never holds the shared R channel).
// Under halt_i no new burst is issued and returned beats are accepted and dropped, so the bus
// drains; quiet_o says nothing is outstanding.
`default_nettype none

module tessera_dma_reader (
    input  wire                clk_i,
    input  wire                rst_ni,
    input  wire                clear_i,
    input  wire                halt_i,
    // request
    input  wire                req_valid_i,
    input  wire [31:0]         req_addr_i,
    input  wire [31:0]         req_beats_i,
    output wire                req_ready_o,
    input  wire [15:0]         credit_i,
    // to the arbiter
    output wire                ar_valid_o,
    output wire [31:0]         ar_addr_o,
    output wire [7:0]          ar_len_o,
    input  wire                ar_ready_i,
    input  wire                r_valid_i,
    input  wire [BUS_BITS-1:0] r_data_i,
    input  wire                r_last_i,
    input  wire [1:0]          r_resp_i,
    output wire                r_ready_o,
    // returned data
    output wire                d_valid_o,
    output wire [BUS_BITS-1:0] d_data_o,
    input  wire                d_ready_i,
    output wire                quiet_o,
    output wire                bus_err_o
);
`include "tessera_params.vh"

  reg [31:0] addr_q, addr_d;
  reg [31:0] left_q, left_d;
  reg [3:0]  outst_q, outst_d;
  reg [15:0] inflight_q, inflight_d;

  wire [12:0] to_4k = (13'h1000 - {1'b0, addr_q[11:0]}) >> LOG_BUS_BYTES;
  reg  [12:0] len;
  always @* begin
    len = to_4k;
    if (len > MAX_BURST[12:0]) len = MAX_BURST[12:0];
    if ({19'd0, len} > left_q) len = left_q[12:0];
  end

  wire [16:0] need = {1'b0, inflight_q} + {4'd0, len};
  wire ar_valid = left_q != 32'd0 && !halt_i && outst_q < 4'd8 && need <= {1'b0, credit_i};
  wire ar_hs = ar_valid && ar_ready_i;
  wire r_ready = halt_i || d_ready_i;
  wire r_hs = r_valid_i && r_ready;

  always @* begin
    addr_d = addr_q;
    left_d = left_q;
    outst_d = outst_q;
    inflight_d = inflight_q;
    if (req_valid_i && left_q == 32'd0) begin
      addr_d = req_addr_i;
      left_d = req_beats_i;
    end
    if (ar_hs) begin
      addr_d = addr_q + ({19'd0, len} << LOG_BUS_BYTES);
      left_d = left_q - {19'd0, len};
    end
    if (ar_hs && !(r_hs && r_last_i)) outst_d = outst_q + 4'd1;
    if (!ar_hs && r_hs && r_last_i) outst_d = outst_q - 4'd1;
    inflight_d = inflight_q + (ar_hs ? {3'd0, len} : 16'd0) - {15'd0, r_hs};
  end

  always @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      addr_q <= 32'd0;
      left_q <= 32'd0;
      outst_q <= 4'd0;
      inflight_q <= 16'd0;
    end else begin
      addr_q <= addr_d;
      left_q <= left_d;
      outst_q <= outst_d;
      inflight_q <= inflight_d;
    end
  end

  wire unused_ok = &{1'b0, r_resp_i[0], 1'b0};

  assign req_ready_o = left_q == 32'd0;
  assign ar_valid_o = ar_valid;
  assign ar_addr_o = addr_q;
  assign ar_len_o = len[7:0] - 8'd1;
  assign r_ready_o = r_ready;
  assign d_valid_o = r_valid_i && !halt_i;
  assign d_data_o = r_data_i;
  assign quiet_o = outst_q == 4'd0;
  assign bus_err_o = r_hs && r_resp_i[1];
endmodule

`default_nettype wire
