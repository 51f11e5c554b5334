// Read arbiter of the AXI4 master: three DMA readers (0 fetch, 1 load, 2 compute) share the
// AR and R channels. AR requests are granted round-robin into a registered AR stage; every
// burst uses ID 0, so data returns in request order, and a small FIFO of granted users routes
// each R burst to its owner.
`default_nettype none

module tessera_axi_rd_arbiter (
    input  wire                  clk_i,
    input  wire                  rst_ni,
    // users, packed {2, 1, 0}
    input  wire [2:0]            ar_valid_i,
    input  wire [95:0]           ar_addr_i,
    input  wire [23:0]           ar_len_i,
    output wire [2:0]            ar_ready_o,
    output wire [2:0]            r_valid_o,
    input  wire [2:0]            r_ready_i,
    // AXI4 master read channels
    output wire [0:0]            m_axi_arid,
    output wire [31:0]           m_axi_araddr,
    output wire [7:0]            m_axi_arlen,
    output wire [2:0]            m_axi_arsize,
    output wire [1:0]            m_axi_arburst,
    output wire                  m_axi_arlock,
    output wire [3:0]            m_axi_arcache,
    output wire [2:0]            m_axi_arprot,
    output wire                  m_axi_arvalid,
    input  wire                  m_axi_arready,
    input  wire [0:0]            m_axi_rid,
    input  wire                  m_axi_rlast,
    input  wire                  m_axi_rvalid,
    output wire                  m_axi_rready
);
`include "tessera_params.vh"

  reg        arvalid_q, arvalid_d;
  reg [31:0] araddr_q, araddr_d;
  reg [7:0]  arlen_q, arlen_d;
  reg [1:0]  last_q, last_d;
  reg [2:0]  grant;
  reg [1:0]  grant_idx;

  wire route_full;
  wire [5:0] unused_route_count;
  wire route_empty;
  wire [1:0] route_head;
  wire slot_free = !arvalid_q || m_axi_arready;

  // round-robin: the user after the last granted one comes first
  always @* begin
    grant = 3'b000;
    grant_idx = 2'd0;
    if (slot_free && !route_full) begin
      case (last_q)
        2'd0: begin
          if (ar_valid_i[1]) grant_idx = 2'd1;
          else if (ar_valid_i[2]) grant_idx = 2'd2;
          else grant_idx = 2'd0;
        end
        2'd1: begin
          if (ar_valid_i[2]) grant_idx = 2'd2;
          else if (ar_valid_i[0]) grant_idx = 2'd0;
          else grant_idx = 2'd1;
        end
        default: begin
          if (ar_valid_i[0]) grant_idx = 2'd0;
          else if (ar_valid_i[1]) grant_idx = 2'd1;
          else grant_idx = 2'd2;
        end
      endcase
      grant[grant_idx] = ar_valid_i[grant_idx];
    end
  end

  wire granted = |grant;

  always @* begin
    arvalid_d = arvalid_q;
    araddr_d = araddr_q;
    arlen_d = arlen_q;
    last_d = last_q;
    if (arvalid_q && m_axi_arready) arvalid_d = 1'b0;
    if (granted) begin
      arvalid_d = 1'b1;
      araddr_d = ar_addr_i[{grant_idx, 5'd0} +: 32];
      arlen_d = ar_len_i[{grant_idx, 3'd0} +: 8];
      last_d = grant_idx;
    end
  end

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      arvalid_q <= 1'b0;
      araddr_q <= 32'd0;
      arlen_q <= 8'd0;
      last_q <= 2'd2;
    end else begin
      arvalid_q <= arvalid_d;
      araddr_q <= araddr_d;
      arlen_q <= arlen_d;
      last_q <= last_d;
    end
  end

  wire r_hs = m_axi_rvalid && m_axi_rready;

  tessera_fifo #(.WIDTH(2), .LOG_DEPTH(5)) u_route (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(1'b0),
    .push_i(granted), .wdata_i(grant_idx), .full_o(route_full),
    .pop_i(r_hs && m_axi_rlast), .rdata_o(route_head), .empty_o(route_empty),
    .count_o(unused_route_count)
  );

  wire [2:0] head_onehot = route_empty ? 3'b000 : (3'b001 << route_head);
  wire unused_ok = &{1'b0, m_axi_rid, 1'b0};

  assign ar_ready_o = grant;
  assign r_valid_o = {3{m_axi_rvalid}} & head_onehot;
  assign m_axi_rready = |(r_ready_i & head_onehot);
  assign m_axi_arid = 1'b0;
  assign m_axi_araddr = araddr_q;
  assign m_axi_arlen = arlen_q;
  assign m_axi_arsize = LOG_BUS_BYTES[2:0];
  assign m_axi_arburst = 2'b01;
  assign m_axi_arlock = 1'b0;
  assign m_axi_arcache = 4'b0011;
  assign m_axi_arprot = 3'b000;
  assign m_axi_arvalid = arvalid_q;
endmodule

`default_nettype wire
